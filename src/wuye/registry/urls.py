from django.urls import path

from wuye.registry import views
from wuye.registry.import_views import import_urlpatterns

app_name = "registry"

urlpatterns = [
    path("search/", views.search, name="search"),
    path("search/all/", views.search_all, name="search_all"),
    path("rooms/<int:room_id>/", views.household, name="household"),
    path("rooms/<int:room_id>/edit/", views.room_edit, name="room_edit"),
    path("rooms/<int:room_id>/people/<int:person_id>/edit/", views.person_edit, name="person_edit"),
    path("rooms/<int:room_id>/people/<int:person_id>/phones/", views.phone_add, name="phone_add"),
    path(
        "rooms/<int:room_id>/phones/<int:phone_id>/validity/",
        views.phone_validity,
        name="phone_validity",
    ),
    path("rooms/<int:room_id>/occupants/", views.occupant_add, name="occupant_add"),
    path(
        "rooms/<int:room_id>/occupancies/<int:occupancy_id>/end/",
        views.occupancy_end,
        name="occupancy_end",
    ),
    path("rooms/<int:room_id>/issues/", views.legacy_issue_add, name="legacy_issue_add"),
    path(
        "rooms/<int:room_id>/issues/<int:issue_id>/state/",
        views.legacy_issue_state,
        name="legacy_issue_state",
    ),
    path("rooms/<int:room_id>/tickets/", views.ticket_add, name="ticket_add"),
    path(
        "rooms/<int:room_id>/tickets/<int:ticket_id>/state/",
        views.ticket_state,
        name="ticket_state",
    ),
    path("buildings/", views.buildings, name="buildings"),
    path("buildings/<int:building_id>/", views.building, name="building"),
    *import_urlpatterns,
]
