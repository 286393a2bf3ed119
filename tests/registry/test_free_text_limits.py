"""Free text has a length limit (issue 13 item 14): a ticket description of 1.7 million characters, an
endless person note or legacy-issue description is refused by the service (so by every page, import
and API call that goes through it) and by the forms."""

import datetime

import pytest
from django.urls import reverse

from tests.factories import household
from wuye.core.errors import TEXT_MAX_LENGTH, ValidationFailed
from wuye.registry import services
from wuye.registry.models import LegacyIssue, ServiceTicket

pytestmark = pytest.mark.django_db

HUGE = "投诉" * 850_000  # 1.7 million characters
JUST_OVER = "字" * (TEXT_MAX_LENGTH + 1)
JUST_RIGHT = "字" * TEXT_MAX_LENGTH


@pytest.fixture
def home(project):
    return household(project)


def test_a_huge_ticket_description_is_refused_naming_the_field(home):
    room, _ = home
    for text in (HUGE, JUST_OVER):
        with pytest.raises(ValidationFailed, match=f"内容：最多 {TEXT_MAX_LENGTH} 字") as exc:
            services.ticket_create(
                user=None, room=room, category="repair", subject="漏水", description=text
            )
        assert exc.value.field == "description"
    assert not ServiceTicket.objects.exists()
    services.ticket_create(
        user=None, room=room, category="repair", subject="漏水", description=JUST_RIGHT
    )


def test_person_notes_and_legacy_issue_texts_are_limited(home):
    room, person = home
    with pytest.raises(ValidationFailed, match="备注：最多"):
        services.person_update(user=None, person=person, notes=JUST_OVER)
    with pytest.raises(ValidationFailed, match="详细描述：最多"):
        services.legacy_issue_create(
            user=None,
            room=room,
            title="外墙渗水",
            responsible_party="developer",
            reported_on=datetime.date(2025, 1, 1),
            description=JUST_OVER,
        )
    issue = services.legacy_issue_create(
        user=None,
        room=room,
        title="外墙渗水",
        responsible_party="developer",
        reported_on=datetime.date(2025, 1, 1),
    )
    with pytest.raises(ValidationFailed, match="最多"):
        services.legacy_issue_change_state(user=None, issue=issue, state="resolved", note=JUST_OVER)
    issue.refresh_from_db()
    assert issue.state != "resolved" and issue.events.count() == 1


def test_the_ticket_form_refuses_a_huge_description(client, steward, home):
    room, _ = home
    client.force_login(steward)
    page = client.get(reverse("registry:household", args=[room.pk])).content.decode()
    assert f'maxlength="{TEXT_MAX_LENGTH}"' in page
    client.post(
        reverse("registry:ticket_add", args=[room.pk]),
        {"category": "repair", "subject": "漏水", "description": HUGE},
    )
    assert not ServiceTicket.objects.exists()
    assert not LegacyIssue.objects.exists()
