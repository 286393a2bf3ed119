from django.urls import path

from wuye.dunning import views

app_name = "dunning"

urlpatterns = [
    path("today/", views.today, name="today"),
    path("cases/", views.cases, name="cases"),
    path("check/", views.check, name="check"),
    path("report/", views.report, name="report"),
    path("run/", views.run_now, name="run"),
    path("cases/<int:case_id>/", views.case, name="case"),
    path("households/<int:room_id>/", views.household_panel, name="household"),
    path("cases/<int:case_id>/contact/", views.contact, name="contact"),
    path("cases/<int:case_id>/contact-form/", views.contact_form, name="contact_form"),
    path("cases/<int:case_id>/issues/", views.link_issue, name="link_issue"),
    path("cases/<int:case_id>/class/", views.set_class, name="set_class"),
    path("cases/<int:case_id>/reassign/", views.reassign, name="reassign"),
    path("cases/<int:case_id>/stage/", views.set_stage, name="set_stage"),
    path("attachments/<int:attachment_id>/", views.attachment, name="attachment"),
    path("limitation/", views.limitation_alerts, name="limitation"),
    path("cases/<int:case_id>/limitation/", views.limitation_record, name="limitation_record"),
    path("cases/<int:case_id>/evidence.zip", views.evidence_zip, name="evidence"),
    path("rebalance/", views.rebalance, name="rebalance"),
    path("recovery/", views.recovery, name="recovery"),
    path("cases/<int:case_id>/recovery/", views.recovery_create, name="recovery_create"),
]
