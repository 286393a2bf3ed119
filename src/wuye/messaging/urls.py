from django.urls import path

from wuye.messaging import views

app_name = "messaging"

urlpatterns = [
    path("cases/<int:case_id>/demand.pdf", views.demand_pdf, name="demand_pdf"),
    path("cases/<int:case_id>/sms/", views.send_sms, name="send_sms"),
    path("cases/<int:case_id>/talking-points/", views.talking_points, name="talking_points"),
    path("outbox/", views.outbox, name="outbox"),
    path("sms/receipt/", views.sms_receipt, name="sms_receipt"),
]
