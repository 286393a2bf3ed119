"""Registry pages: search as you type, the household file (一户一档), building → unit → room browsing.

Views only check access and render; reads come from ``selectors``.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from wuye.core import hooks
from wuye.core.errors import WuyeError
from wuye.core.scope import can_edit_registry, can_see_id_numbers, can_see_phones, project_ids_for
from wuye.registry import services
from wuye.registry.enums import OccupancyState
from wuye.registry.forms import (
    LegacyIssueForm,
    LegacyIssueStateForm,
    OccupancyEndForm,
    OccupantAddForm,
    PersonForm,
    PhoneAddForm,
    PhoneValidityForm,
    RoomForm,
    TicketForm,
    TicketStateForm,
    first_error,
)
from wuye.registry.models import (
    Building,
    LegacyIssue,
    Occupancy,
    Person,
    Phone,
    Room,
    ServiceTicket,
)
from wuye.registry.selectors import (
    buildings_with_counts,
    household_file,
    project_overview,
    room_arrears,
    search_page,
    units_with_rooms,
)

# The building view's arrears colours (the keys of wuye.dunning.room_arrears.LEVELS).
ARREARS_LEVELS = (
    ("none", "无欠费"),
    ("overdue", "欠费未立案"),
    ("case", "催缴中"),
    ("legal", "律师函/诉讼"),
)


@login_required
def home(request):
    """The start page: the current project's overview (routed as ``home`` in ``wuye.urls``)."""
    project = request.project
    context = {"overview": project_overview(project) if project else None}
    return render(request, "registry/home.html", context)


def _current_project_or_404(request):
    if not request.project:
        raise Http404("没有可用的项目")
    return request.project


def _search(request, template: str, limit: int | None = None):
    project = _current_project_or_404(request)
    text = request.GET.get("q", "")
    show_phones = can_see_phones(request.user, project)
    page = (
        search_page(
            project=project, text=text, full_phone=show_phones, user=request.user, limit=limit
        )
        if text.strip()
        else None
    )
    return render(
        request,
        template,
        {
            "hits": page.hits if page else [],
            "more": page.more if page else False,
            "limit": page.limit if page else 0,
            "q": text,
            "show_phones": show_phones,
        },
    )


@login_required
def search(request):
    """The header's search as you type: the first WUYE_SEARCH_LIMIT hits, saying when there are more."""
    return _search(request, "registry/_search_results.html")


@login_required
def search_all(request):
    """搜索结果: every hit up to WUYE_SEARCH_PAGE_LIMIT, on a page of its own."""
    return _search(request, "registry/search.html", settings.WUYE_SEARCH_PAGE_LIMIT)


@login_required
def household(request, room_id: int):
    data = household_file(room_id, project_ids_for(request.user))
    if data is None:
        raise Http404("房屋不存在或不在您的项目范围内")
    project = data.room.project
    room = data.room
    return render(
        request,
        "registry/household.html",
        {
            "h": data,
            "room": room,
            "show_phones": can_see_phones(request.user, project),
            "show_ids": can_see_id_numbers(request.user, project),
            "can_edit": can_edit_registry(request.user, project),
            "room_form": RoomForm(
                initial={f: getattr(room, f) for f in services.ROOM_EDITABLE_FIELDS if f != "floor"}
            ),
            "occupant_form": OccupantAddForm(),
            "phone_form": PhoneAddForm(),
            "validity_choices": PhoneValidityForm.base_fields["validity"].choices,
            "issue_form": LegacyIssueForm(),
            "issue_state_form": LegacyIssueStateForm(),
            "ticket_form": TicketForm(),
            "ticket_state_form": TicketStateForm(),
            "household_header_panels": hooks.panels("WUYE_HOUSEHOLD_HEADER_PANELS"),
            "household_panels": hooks.panels("WUYE_HOUSEHOLD_PANELS"),
            "arrears": room_arrears(project.pk, [room.pk], request.user).get(room.pk),
        },
    )


@login_required
def buildings(request):
    project = _current_project_or_404(request)
    return render(request, "registry/buildings.html", {"buildings": buildings_with_counts(project)})


@login_required
def building(request, building_id: int):
    project = _current_project_or_404(request)
    obj = get_object_or_404(
        Building.objects.select_related("steward"), pk=building_id, project=project
    )
    colour = "arrears" if request.GET.get("colour") == "arrears" else "occupancy"
    return render(
        request,
        "registry/building.html",
        {
            "building": obj,
            "groups": units_with_rooms(obj, request.user),
            "states": OccupancyState,
            "colour": colour,
            "arrears_levels": ARREARS_LEVELS,
        },
    )


# --- edits from the household page ---------------------------------------------------------------
# Each edit is a POST that runs one service and comes back to the household page with a message.


def _household_post(
    request, room_id: int, form_class, action, success: str, anchor: str, editor: bool = True
):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    room = get_object_or_404(Room, pk=room_id, project_id__in=project_ids_for(request.user))
    if editor and not can_edit_registry(request.user, room.project_id):
        raise PermissionDenied("您的角色不能修改房屋与客户档案。")
    form = form_class(request.POST)
    if not form.is_valid():
        messages.error(request, first_error(form))
    else:
        try:
            action(room, form.cleaned_data)
            messages.success(request, success)
        except WuyeError as exc:
            messages.error(request, exc.message)
    return redirect(reverse("registry:household", args=[room.id]) + f"#{anchor}")


def _person_of(room: Room, person_id: int) -> Person:
    return get_object_or_404(Person, pk=person_id, occupancies__room=room)


@login_required
def room_edit(request, room_id: int):
    def act(room, data):
        services.room_update(user=request.user, room=room, **data)

    return _household_post(request, room_id, RoomForm, act, "房屋信息已保存", "room")


@login_required
def person_edit(request, room_id: int, person_id: int):
    def act(room, data):
        services.person_update(user=request.user, person=_person_of(room, person_id), **data)

    return _household_post(request, room_id, PersonForm, act, "客户资料已保存", "people")


@login_required
def phone_add(request, room_id: int, person_id: int):
    def act(room, data):
        services.phone_add(
            user=request.user,
            person=_person_of(room, person_id),
            number=data["number"],
            label=data["label"] or None,
        )

    return _household_post(request, room_id, PhoneAddForm, act, "电话已添加", "people")


@login_required
def phone_validity(request, room_id: int, phone_id: int):
    def act(room, data):
        phone = get_object_or_404(Phone, pk=phone_id, person__occupancies__room=room)
        services.phone_mark_validity(user=request.user, phone=phone, validity=data["validity"])

    return _household_post(request, room_id, PhoneValidityForm, act, "号码状态已更新", "people")


@login_required
def occupant_add(request, room_id: int):
    def act(room, data):
        with transaction.atomic():
            person = services.person_create(
                user=request.user,
                project=room.project,
                name=data["name"],
                phones=[data["phone"]] if data["phone"] else [],
            )
            services.occupancy_create(
                user=request.user,
                room=room,
                person=person,
                role=data["role"],
                start_date=data["start_date"],
                is_payer=data["is_payer"],
            )

    return _household_post(request, room_id, OccupantAddForm, act, "已添加", "people")


@login_required
def occupancy_end(request, room_id: int, occupancy_id: int):
    def act(room, data):
        occupancy = get_object_or_404(Occupancy, pk=occupancy_id, room=room)
        services.occupancy_end(user=request.user, occupancy=occupancy, end_date=data["end_date"])

    return _household_post(
        request, room_id, OccupancyEndForm, act, "关系已结束，记录保留在历史中", "people"
    )


@login_required
def legacy_issue_add(request, room_id: int):
    def act(room, data):
        services.legacy_issue_create(user=request.user, room=room, **data)

    return _household_post(
        request, room_id, LegacyIssueForm, act, "遗留问题已登记", "legacy-issues"
    )


@login_required
def legacy_issue_state(request, room_id: int, issue_id: int):
    def act(room, data):
        issue = get_object_or_404(LegacyIssue, pk=issue_id, room=room)
        services.legacy_issue_change_state(user=request.user, issue=issue, **data)

    return _household_post(
        request, room_id, LegacyIssueStateForm, act, "遗留问题状态已更新", "legacy-issues"
    )


@login_required
def ticket_add(request, room_id: int):
    def act(room, data):
        services.ticket_create(user=request.user, room=room, **data)

    # Anyone serving the household (a cashier at the window too) may take a complaint.
    return _household_post(request, room_id, TicketForm, act, "工单已受理", "tickets", editor=False)


@login_required
def ticket_state(request, room_id: int, ticket_id: int):
    def act(room, data):
        ticket = get_object_or_404(ServiceTicket, pk=ticket_id, room=room)
        services.ticket_change_state(user=request.user, ticket=ticket, **data)

    return _household_post(
        request, room_id, TicketStateForm, act, "工单状态已更新", "tickets", editor=False
    )
