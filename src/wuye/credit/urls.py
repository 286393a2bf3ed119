from django.urls import path

from wuye.credit import views

app_name = "credit"

urlpatterns = [
    path("segments/", views.segments, name="segments"),
    path("segments/<int:segment_id>/", views.segment_edit, name="segment_edit"),
    path("segments/recompute/", views.recompute, name="recompute"),
    path("households/<int:room_id>/", views.household_panel, name="household"),
    path("accounts/<int:account_id>/strip/", views.account_strip, name="account_strip"),
]
