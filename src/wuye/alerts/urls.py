from django.urls import path

from wuye.alerts import views

app_name = "alerts"

urlpatterns = [
    path("stories/", views.stories, name="stories"),
    path("cases/<int:case_id>/story/", views.story_create, name="story_create"),
    path("warnings/", views.warnings, name="warnings"),
    path("households/<int:room_id>/messages/", views.household_messages, name="household_messages"),
    path("warnings/<int:warning_id>/acknowledge/", views.acknowledge, name="acknowledge"),
]
