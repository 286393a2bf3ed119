from django.urls import path

from wuye.banking import views

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
]
