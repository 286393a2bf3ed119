from django.contrib import admin

from wuye.core.admin import AuditedAdmin
from wuye.registry.models import (
    Building,
    LegacyIssue,
    LegacyIssueEvent,
    Occupancy,
    ParkingSpace,
    Person,
    Phone,
    Room,
    ServiceTicket,
    Unit,
)
from wuye.registry.services import person_search_keys, phone_search_key, room_search_keys


@admin.register(Building)
class BuildingAdmin(AuditedAdmin):
    list_display = ["name", "code", "project", "steward", "floors"]
    list_filter = ["project"]
    search_fields = ["name", "code"]
    autocomplete_fields = ["steward"]


@admin.register(Unit)
class UnitAdmin(AuditedAdmin):
    project_path = "building__project_id"
    list_display = ["name", "building"]
    list_filter = ["building__project"]

    def _project_of(self, obj):
        return obj.building.project_id


@admin.register(Room)
class RoomAdmin(AuditedAdmin):
    list_display = ["code", "project", "use", "gross_area", "handed_over", "occupancy_state"]
    list_filter = ["project", "use", "handed_over", "occupancy_state"]
    search_fields = ["code"]
    raw_id_fields = ["building", "unit"]

    def prepare(self, obj):
        for key, value in room_search_keys(obj.code, obj.number).items():
            setattr(obj, key, value)


class PhoneInline(admin.TabularInline):
    model = Phone
    extra = 0
    fields = ["number", "label", "validity", "is_primary", "note"]


@admin.register(Person)
class PersonAdmin(AuditedAdmin):
    list_display = ["name", "project", "kind", "is_developer", "written_contact_only"]
    list_filter = ["project", "kind", "is_developer"]
    search_fields = ["name", "name_initials", "name_pinyin"]
    inlines = [PhoneInline]

    def prepare(self, obj):
        for key, value in person_search_keys(obj.name).items():
            setattr(obj, key, value)

    def save_formset(self, request, form, formset, change):
        for phone in formset.save(commit=False):
            phone.number_rev = phone_search_key(phone.number)
            phone.save()
        for phone in formset.deleted_objects:
            phone.delete()


@admin.register(Occupancy)
class OccupancyAdmin(AuditedAdmin):
    project_path = "room__project_id"
    list_display = ["room", "person", "role", "is_payer", "start_date", "end_date"]
    list_filter = ["role", "is_payer", "room__project"]
    raw_id_fields = ["room", "person"]

    def _project_of(self, obj):
        return obj.room.project_id


@admin.register(ParkingSpace)
class ParkingSpaceAdmin(AuditedAdmin):
    list_display = ["code", "project", "kind", "room", "person", "plate"]
    list_filter = ["project", "kind"]
    raw_id_fields = ["room", "person"]


class LegacyIssueEventInline(admin.TabularInline):
    model = LegacyIssueEvent
    extra = 0
    readonly_fields = ["at", "user", "from_state", "to_state", "note"]
    can_delete = False


@admin.register(LegacyIssue)
class LegacyIssueAdmin(AuditedAdmin):
    list_display = ["title", "room", "responsible_party", "state", "reported_on"]
    list_filter = ["project", "state", "responsible_party"]
    raw_id_fields = ["room"]
    inlines = [LegacyIssueEventInline]


@admin.register(ServiceTicket)
class ServiceTicketAdmin(AuditedAdmin):
    list_display = ["subject", "room", "category", "state", "opened_at", "satisfaction"]
    list_filter = ["project", "category", "state"]
    raw_id_fields = ["room", "person"]
