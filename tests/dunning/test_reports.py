"""催缴日报表: per steward — contacts, reached, promises, amount promised, amount collected — for a
day, a week or a month, and each team's collections against its target."""

import datetime
import io
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse

from tests.dunning import factories
from wuye.dunning.contacts import contact_record
from wuye.dunning.models import CollectionTeam
from wuye.dunning.reports import period_of, steward_report
from wuye.ledger.services.reversals import payment_reverse

pytestmark = pytest.mark.django_db
DAY = datetime.timedelta(days=1)


@pytest.fixture
def tuesday(today):
    """A Tuesday two weeks back: its Monday and Wednesday fall in the same week."""
    monday = today - 14 * DAY
    return monday - monday.weekday() * DAY + DAY


@pytest.fixture
def other_steward(make_user, project):
    from wuye.core.roles import Role

    return make_user("steward2", Role.STEWARD, project)


@pytest.fixture
def cases(project, steward, other_steward, debtor, item, today):
    other = factories.debtor(project, "5-1-0101", steward=other_steward, owner="李四")
    factories.bill(other, item, "300.00", today - 60 * DAY, today - 40 * DAY)
    factories.run(project)
    return factories.case_of(debtor), factories.case_of(other)


def call(user, case, at, **kwargs):
    kwargs.setdefault("reached", True)
    return contact_record(user=user, case=case, channel="phone", at=at, now=at + DAY, **kwargs)


def row_of(report, user):
    return next(r for r in report.rows if r.user == user)


def test_the_daily_report_counts_each_stewards_contacts_reached_and_promises(
    project, steward, other_steward, cases, tuesday
):
    mine, theirs = cases
    call(steward, mine, factories.at(tuesday, 10), reached=False, unreached_reason="no_answer")
    call(
        steward,
        mine,
        factories.at(tuesday, 15),
        promise_date=tuesday + 10 * DAY,
        promise_amount="150.00",
    )
    call(other_steward, theirs, factories.at(tuesday, 10), refusal_reason="leak")

    report = steward_report(project_ids=[project.pk], period=period_of("day", tuesday))

    row = row_of(report, steward)
    assert (row.contacts, row.reached, row.promises, row.promised_amount) == (
        2,
        1,
        1,
        Decimal("150.00"),
    )
    other = row_of(report, other_steward)
    assert (other.contacts, other.reached, other.promises) == (1, 1, 0)
    assert report.total.contacts == 3


def test_a_correction_is_not_counted_as_a_second_contact(project, steward, cases, tuesday):
    mine, _ = cases
    first = call(
        steward, mine, factories.at(tuesday, 10), reached=False, unreached_reason="no_answer"
    )
    call(steward, mine, factories.at(tuesday, 10, 5), corrects=first, note="实际已接通")

    report = steward_report(project_ids=[project.pk], period=period_of("day", tuesday))

    assert row_of(report, steward).contacts == 1


def test_the_weekly_and_monthly_reports_sum_the_days_of_the_period(
    project, steward, cases, tuesday
):
    mine, _ = cases
    call(steward, mine, factories.at(tuesday, 10))
    call(steward, mine, factories.at(tuesday + DAY, 10))

    assert (
        row_of(
            steward_report(project_ids=[project.pk], period=period_of("day", tuesday)), steward
        ).contacts
        == 1
    )
    assert (
        row_of(
            steward_report(project_ids=[project.pk], period=period_of("week", tuesday)), steward
        ).contacts
        == 2
    )
    month = period_of("month", tuesday)
    assert month.start.day == 1 and (month.end + DAY).day == 1


def test_collected_is_what_the_households_of_a_stewards_cases_paid_that_day(
    project,
    steward,
    other_steward,
    cases,
    cashier,
    debtor,
    today,
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        factories.pay(cashier, debtor, "200.00", include_late_fees=False)  # closes the case

    report = steward_report(project_ids=[project.pk], period=period_of("day", today))

    assert row_of(report, steward).collected == Decimal("200.00")
    assert row_of(report, steward).paying_households == 1
    assert all(r.user != other_steward for r in report.rows)
    yesterday = steward_report(project_ids=[project.pk], period=period_of("day", today - DAY))
    assert yesterday.rows == []


def test_a_reversed_payment_is_not_collected(
    project, steward, cases, cashier, supervisor, debtor, today, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        payment = factories.pay(cashier, debtor, "200.00", include_late_fees=False)
    with django_capture_on_commit_callbacks(execute=True):
        payment_reverse(user=cashier, payment=payment, reason="银行退票", approved_by=supervisor)

    report = steward_report(project_ids=[project.pk], period=period_of("day", today))

    assert report.rows == []


def test_another_projects_contacts_are_not_in_the_report(
    project, other_project, steward, cases, tuesday
):
    mine, _ = cases
    call(steward, mine, factories.at(tuesday, 10))

    report = steward_report(project_ids=[other_project.pk], period=period_of("day", tuesday))

    assert report.rows == []


def test_a_team_progress_is_its_members_collections_against_the_target(
    project,
    steward,
    other_steward,
    supervisor,
    cases,
    cashier,
    debtor,
    today,
    django_capture_on_commit_callbacks,
):
    team = CollectionTeam.objects.create(
        project=project, name="冬季清欠组", leader=supervisor, target_amount=Decimal("800.00")
    )
    team.members.add(steward)
    with django_capture_on_commit_callbacks(execute=True):
        factories.pay(cashier, debtor, "200.00", include_late_fees=False)

    report = steward_report(project_ids=[project.pk], period=period_of("day", today))

    (progress,) = report.teams
    assert progress.collected == Decimal("200.00")
    assert progress.percent == 25


def test_the_report_page_is_for_supervisors_and_exports_to_excel(
    client, project, steward, supervisor, cases, tuesday
):
    mine, _ = cases
    call(steward, mine, factories.at(tuesday, 10))
    url = reverse("dunning:report")

    client.force_login(steward)
    assert client.get(url).status_code == 403

    client.force_login(supervisor)
    page = client.get(url, {"date": tuesday.isoformat(), "period": "week"})
    assert page.status_code == 200
    assert "催缴周报表" in page.content.decode()
    xlsx = client.get(url, {"date": tuesday.isoformat(), "period": "week", "format": "xlsx"})
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet["A1"].value == "催缴周报表"
    assert sheet["B2"].value == project.name
    rows = [r for r in sheet.iter_rows(values_only=True) if r and r[0] == str(steward)]
    assert rows[0][1] == 1
