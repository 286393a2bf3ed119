from django.urls import path

from wuye.reports import views

app_name = "reports"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("households/", views.households, name="households"),
    path("rates/", views.rates, name="rates"),
    path("aging/", views.aging_report, name="aging"),
    path("debtors/", views.debtors, name="debtors"),
    path("arrears/", views.breakdown, name="breakdown"),
    path("promises/", views.promises, name="promises"),
    path("exports/<str:job_id>/", views.export_status, name="export_status"),
    path("exports/<str:job_id>/download/", views.export_download, name="export_download"),
    path("plans/", views.plans, name="plans"),
    path("plans/<int:plan_id>/", views.plan, name="plan"),
    path("plans/<int:plan_id>/progress/", views.plan_progress, name="plan_progress"),
]
