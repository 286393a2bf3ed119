from django.urls import path

from wuye.payments import views

app_name = "payments"

urlpatterns = [
    path("notify/<str:channel>/", views.notify, name="notify"),
]
