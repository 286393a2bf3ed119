"""The household file's 催缴记录 card: the room's cases and contact records, through the panel list
(``WUYE_HOUSEHOLD_PANELS``), never a placeholder, and never the registry naming dunning."""

import datetime
import re
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

import wuye
from tests.dunning import factories
from wuye.core.roles import Role
from wuye.dunning.contacts import contact_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(project, debtor):
    factories.run(project)
    return factories.case_of(debtor)


def _call(user, case, channel="phone", **kwargs):
    at = timezone.localtime().replace(hour=10, minute=0, second=0, microsecond=0)
    return contact_record(
        user=user, case=case, channel=channel, reached=True, at=at, now=at, **kwargs
    )


def test_the_household_file_shows_the_rooms_cases_and_contacts(client, steward, case, today):
    _call(
        steward,
        case,
        owner_said="下周五来缴，最近出差",
        promise_date=today + datetime.timedelta(days=6),
    )
    client.force_login(steward)

    page = client.get(reverse("registry:household", args=[case.room_id])).content.decode()
    assert "催缴模块上线后" not in page
    assert f'hx-get="{reverse("dunning:household", args=[case.room_id])}"' in page

    card = client.get(reverse("dunning:household", args=[case.room_id])).content.decode()
    assert 'id="dunning-cases"' in card and 'id="dunning-contacts"' in card
    assert f"{case.opened_on:%Y-%m-%d}" in card and "在办" in card
    assert reverse("dunning:case", args=[case.pk]) in card
    assert "下周五来缴，最近出差" in card and str(case.overdue_amount) in card


def test_a_closed_case_stays_on_the_card_with_what_closed_it(
    client, steward, cashier, case, debtor, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        payment = factories.pay(cashier, debtor, "200.00", include_late_fees=False)
    client.force_login(steward)
    card = client.get(reverse("dunning:household", args=[case.room_id])).content.decode()
    assert "已结案" in card or "结案" in card
    assert f"No.{payment.receipt_no:08d}" in card


def test_a_steward_sees_only_the_cases_they_hold(client, make_user, project, steward, case):
    other = make_user("steward2", Role.STEWARD, project)
    _call(steward, case, owner_said="不方便接电话")
    client.force_login(other)
    card = client.get(reverse("dunning:household", args=[case.room_id])).content.decode()
    assert reverse("dunning:case", args=[case.pk]) not in card
    assert "不方便接电话" not in card
    assert "另有 1 件由其他同事负责" in card


def test_a_cashier_without_the_case_sees_none_of_its_records(client, cashier, steward, case):
    # Cashiers can hold cases (issue 16 item 11), so like a steward they see only their own.
    _call(steward, case, owner_said="不方便接电话")
    client.force_login(cashier)
    card = client.get(reverse("dunning:household", args=[case.room_id])).content.decode()
    assert "不方便接电话" not in card
    assert reverse("dunning:case", args=[case.pk]) not in card
    assert "另有 1 件由其他同事负责" in card


def test_a_finance_user_is_told_the_records_are_for_dunning_staff(
    client, make_user, project, steward, case
):
    _call(steward, case, owner_said="不方便接电话")
    client.force_login(make_user("fin", Role.FINANCE, project))
    card = client.get(reverse("dunning:household", args=[case.room_id])).content.decode()
    assert "仅催缴人员" in card and "不方便接电话" not in card


def test_another_projects_room_is_not_found(client, make_user, other_project, case):
    client.force_login(make_user("far", Role.SUPERVISOR, other_project))
    assert client.get(reverse("dunning:household", args=[case.room_id])).status_code == 404


def test_the_card_reads_a_fixed_number_of_queries(
    client, supervisor, steward, case, django_assert_max_num_queries
):
    for n in range(5):
        _call(steward, case, "phone" if n < 2 else "window", owner_said=f"第{n}次")
    client.force_login(supervisor)
    with django_assert_max_num_queries(12):
        client.get(reverse("dunning:household", args=[case.room_id]))


ABOVE_REGISTRY = ("dunning", "messaging", "reports", "scoring", "credit", "alerts", "demo")


def test_registry_templates_name_no_app_above_dunning_or_beside_it():
    """The registry sits below dunning (ARCHITECTURE): its templates list the household page's cards
    from settings instead of including them by name."""
    root = Path(wuye.__file__).resolve().parent / "registry" / "templates"
    found = []
    for path in root.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        for app in ABOVE_REGISTRY:
            if re.search(rf"""['"]{app}[:/]""", text):
                found.append(f"{path.name}: {app}")
    assert not found, found
