from django.urls import path

from wuye.banking import views, withholding_views

app_name = "banking"

urlpatterns = [
    path("", views.imports, name="imports"),
    path("imports/<int:batch_id>/", views.import_page, name="import"),
    path("imports/<int:batch_id>/commit/", views.import_commit, name="import_commit"),
    path("imports/<int:batch_id>/progress/", views.import_progress, name="import_progress"),
    path("queue/", views.queue, name="queue"),
    path("queue.xlsx", views.queue_export, name="queue_export"),
    path("lines/<int:line_id>/", views.line_page, name="line"),
    path("lines/<int:line_id>/claim/", views.line_claim, name="claim"),
    path("lines/<int:line_id>/undo/", views.line_undo, name="undo"),
    path("lines/<int:line_id>/refund/", views.line_refund, name="refund"),
    path("withholding/", withholding_views.overview, name="withholding"),
    path(
        "withholding/authorizations/",
        withholding_views.authorizations,
        name="withholding_authorizations",
    ),
    path(
        "withholding/authorizations/<int:auth_id>/cancel/",
        withholding_views.authorization_cancel,
        name="withholding_authorization_cancel",
    ),
    path(
        "withholding/authorizations/<int:auth_id>/agreement/",
        withholding_views.authorization_agreement,
        name="withholding_agreement",
    ),
    path(
        "withholding/batches/<int:batch_id>/",
        withholding_views.batch_page,
        name="withholding_batch",
    ),
    path(
        "withholding/batches/<int:batch_id>/file/",
        withholding_views.batch_file,
        name="withholding_batch_file",
    ),
    path(
        "withholding/batches/<int:batch_id>/cancel/",
        withholding_views.batch_cancel,
        name="withholding_batch_cancel",
    ),
    path(
        "withholding/batches/<int:batch_id>/export.xlsx",
        withholding_views.batch_export,
        name="withholding_batch_export",
    ),
    path(
        "withholding/returns/<int:return_id>/",
        withholding_views.return_page,
        name="withholding_return",
    ),
    path(
        "withholding/returns/<int:return_id>/commit/",
        withholding_views.return_commit,
        name="withholding_return_commit",
    ),
    path(
        "withholding/cases/<int:case_id>/",
        withholding_views.case_panel,
        name="withholding_case_panel",
    ),
]
