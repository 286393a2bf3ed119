from django.urls import path

from wuye.dunning import (
    assignment_views,
    case_views,
    limitation_views,
    supervisor_views,
    today_views,
)

app_name = "dunning"

urlpatterns = [
    path("today/", today_views.today, name="today"),
    path("cases/", supervisor_views.cases, name="cases"),
    path("check/", supervisor_views.check, name="check"),
    path("report/", supervisor_views.report, name="report"),
    path("run/", supervisor_views.run_now, name="run"),
    path("cases/<int:case_id>/", case_views.case, name="case"),
    path("households/<int:room_id>/", case_views.household_panel, name="household"),
    path("cases/<int:case_id>/contact/", today_views.contact, name="contact"),
    path("cases/<int:case_id>/contact-form/", today_views.contact_form, name="contact_form"),
    path("cases/<int:case_id>/issues/", case_views.link_issue, name="link_issue"),
    path("cases/<int:case_id>/class/", case_views.set_class, name="set_class"),
    path("cases/<int:case_id>/reassign/", case_views.reassign, name="reassign"),
    path("cases/<int:case_id>/stage/", case_views.set_stage, name="set_stage"),
    path("attachments/<int:attachment_id>/", case_views.attachment, name="attachment"),
    path("limitation/", limitation_views.limitation_alerts, name="limitation"),
    path(
        "cases/<int:case_id>/limitation/",
        limitation_views.limitation_record,
        name="limitation_record",
    ),
    path("cases/<int:case_id>/evidence.zip", limitation_views.evidence_zip, name="evidence"),
    path("rebalance/", assignment_views.rebalance, name="rebalance"),
    path("recovery/", assignment_views.recovery, name="recovery"),
    path("cases/<int:case_id>/recovery/", assignment_views.recovery_create, name="recovery_create"),
]
