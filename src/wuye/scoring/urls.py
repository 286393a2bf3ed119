from django.urls import path

from wuye.scoring import views

app_name = "scoring"
urlpatterns = [
    path("", views.model, name="model"),
    path("retrain/", views.retrain, name="retrain"),
]
