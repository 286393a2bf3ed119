from django.urls import path

from wuye.ops import views

app_name = "ops"
urlpatterns = [
    path("jobs/", views.jobs, name="jobs"),
    path("jobs/run/", views.run_now, name="run"),
]
