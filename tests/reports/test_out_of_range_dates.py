"""Report and page URLs refuse dates outside the supported range with a message instead of failing
with 500 (issue 13 item 14): ``?as_of=9999-12-31``, ``0001-01-01``, a custom window in year 1."""

from decimal import Decimal

import pytest
from django.urls import reverse

from tests.reports.builders import D, account, bill, fee_item
from wuye.core.dates import OUT_OF_RANGE, date_param
from wuye.core.errors import ValidationFailed
from wuye.core.roles import Role
from wuye.reports import services

pytestmark = pytest.mark.django_db

EXTREMES = [
    {"as_of": "9999-12-31"},
    {"as_of": "0001-01-01"},
    {"as_of": "0001-06-30", "window": "custom", "start": "0001-01-01", "end": "0001-12-31"},
    {"as_of": "2025-06-30", "window": "custom", "start": "0001-01-01", "end": "2025-06-30"},
    {"as_of": "2025-06-30", "window": "year", "end": "9999-12-31"},
]
REPORTS = [
    "reports:dashboard",
    "reports:households",
    "reports:rates",
    "reports:aging",
    "reports:debtors",
    "reports:breakdown",
    "reports:promises",
]


@pytest.fixture
def books(project):
    acct = account(project, "1-1-101")
    bill(acct, fee_item(project), "100.00", D(2025, 1, 1))


@pytest.mark.parametrize("params", EXTREMES)
@pytest.mark.parametrize("name", REPORTS)
def test_report_pages_refuse_out_of_range_dates_with_a_message(
    client, manager, books, name, params
):
    client.force_login(manager)
    response = client.get(reverse(name), params)  # a 500 would raise here
    assert response.status_code == 400
    assert OUT_OF_RANGE in response.content.decode()


@pytest.mark.parametrize("params", EXTREMES[:3])
def test_report_exports_refuse_out_of_range_dates(client, manager, books, params):
    client.force_login(manager)
    response = client.get(reverse("reports:rates"), {**params, "format": "xlsx"})
    assert response.status_code == 400


@pytest.mark.parametrize("as_of", ["9999-12-31", "0001-01-01"])
def test_plan_progress_refuses_out_of_range_dates(client, manager, project, as_of):
    plan = services.plan_save(
        user=manager,
        project=project,
        year=2025,
        split="month",
        target_amount=Decimal("1200.00"),
        target_rate=Decimal("95"),
    )
    client.force_login(manager)
    response = client.get(reverse("reports:plan_progress", args=[plan.pk]), {"as_of": as_of})
    assert response.status_code == 400
    assert OUT_OF_RANGE in response.content.decode()


@pytest.mark.parametrize("date", ["9999-12-31", "0001-01-01"])
@pytest.mark.parametrize("name", ["dunning:report", "dunning:check"])
def test_dunning_reports_fall_back_to_today_with_a_message(
    client, make_user, project, books, name, date
):
    client.force_login(make_user("zhuguan", Role.SUPERVISOR, project))
    response = client.get(reverse(name), {"date": date}, follow=True)
    assert response.status_code == 200
    assert OUT_OF_RANGE in response.content.decode()


@pytest.mark.parametrize("date", ["9999-12-31", "0001-01-01"])
def test_closing_page_ignores_out_of_range_dates(client, make_user, project, date):
    client.force_login(make_user("zhuguan", Role.SUPERVISOR, project))
    assert client.get(reverse("ledger:closing"), {"date": date}).status_code == 200


def test_the_one_date_parser_names_the_field():
    assert date_param("2025-06-30", label="截至日期") == D(2025, 6, 30)
    assert date_param("", default=D(2025, 1, 1)) == D(2025, 1, 1)
    for bad in ("9999-12-31", "0001-01-01", "1989-12-31", "2100-01-01"):
        with pytest.raises(ValidationFailed, match="截至日期：日期应在"):
            date_param(bad, label="截至日期")
    for bad in ("2025-02-30", "20250630", "2025-06-30T00:00", "tomorrow"):
        with pytest.raises(ValidationFailed, match="请输入正确的日期"):
            date_param(bad, label="截至日期")
