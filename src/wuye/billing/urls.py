"""Billing pages: fee items and standards, meter readings, billing runs, late fees, reductions."""

from django.urls import path

from wuye.billing import views

app_name = "billing"

urlpatterns = [
    path("items/", views.fee_items, name="fee_items"),
    path("items/<int:item_id>/", views.fee_item, name="fee_item"),
    path("items/<int:item_id>/standards/", views.standard_add, name="standard_add"),
    path("standards/<int:standard_id>/end/", views.standard_end, name="standard_end"),
    path("readings/", views.readings, name="readings"),
    path("shared/", views.shared_charge_add, name="shared_charge_add"),
    path("runs/", views.runs, name="runs"),
    path("runs/<int:run_id>/", views.run, name="run"),
    path("runs/<int:run_id>/progress/", views.run_progress, name="run_progress"),
    path("runs/<int:run_id>/preview/", views.run_preview_again, name="run_preview"),
    path("runs/<int:run_id>/commit/", views.run_commit, name="run_commit"),
    path("runs/<int:run_id>/reverse/", views.run_reverse, name="run_reverse"),
    path("late-fees/", views.late_fees, name="late_fees"),
    path("rooms/<int:room_id>/adjust/", views.room_adjust, name="room_adjust"),
    path("settings/", views.billing_settings, name="settings"),
]
