"""预警: each kind fires on a hand-built history and does not repeat on the next run; acknowledging
records who, when and the note; the page and the daily report show them."""

import datetime

import pytest
from django.urls import reverse

from tests.dunning import factories
from wuye.alerts import WarningKind
from wuye.alerts.early_warnings import warnings_run
from wuye.alerts.models import AlertSettings, Warning
from wuye.alerts.services import warning_acknowledge
from wuye.core.errors import ValidationFailed
from wuye.credit.services import credit_recompute
from wuye.dunning.contacts import contact_record
from wuye.dunning.enums import Channel
from wuye.dunning.limitation import add_years
from wuye.dunning.reports import period_of, steward_report
from wuye.registry import services as registry

pytestmark = pytest.mark.django_db
DAY = datetime.timedelta(days=1)


def kinds(project, on):
    warnings_run(project=project, on=on)
    return sorted(Warning.objects.filter(project=project).values_list("kind", flat=True))


def run_twice(project, on):
    first = warnings_run(project=project, on=on)
    second = warnings_run(project=project, on=on + DAY)
    return first, second


# --- large sum newly overdue -----------------------------------------------------------------------


def test_a_large_sum_newly_overdue_raises_one_warning(project, steward, item, today):
    acct = factories.debtor(project, "8-1-0101", steward=steward)
    factories.bill(acct, item, "6000.00", today - 50 * DAY, today - 10 * DAY)

    first, second = run_twice(project, today)

    warning = Warning.objects.get(kind=WarningKind.LARGE_OVERDUE)
    assert warning.account == acct and warning.amount == 6000
    assert warning.case is None  # still inside the grace period: no case yet, links the household
    assert first.raised[WarningKind.LARGE_OVERDUE] == 1
    assert second.total == 0 and second.already == 1


def test_a_sum_under_the_projects_threshold_raises_nothing(project, steward, item, today):
    AlertSettings.objects.create(project=project, large_overdue_amount="10000.00")
    acct = factories.debtor(project, "8-1-0101", steward=steward)
    factories.bill(acct, item, "6000.00", today - 50 * DAY, today - 10 * DAY)

    assert kinds(project, today) == []


def test_an_old_large_debt_is_not_newly_overdue(project, steward, item, today):
    acct = factories.debtor(project, "8-1-0101", steward=steward)
    factories.bill(acct, item, "6000.00", today - 90 * DAY, today - 45 * DAY)

    assert WarningKind.LARGE_OVERDUE not in kinds(project, today)


def test_a_large_bill_paid_on_time_raises_nothing(project, steward, cashier, item, today):
    acct = factories.debtor(project, "8-1-0101", steward=steward)
    factories.bill(acct, item, "6000.00", today - 50 * DAY, today - 10 * DAY)
    factories.pay(cashier, acct, "6000.00", include_late_fees=False, business_date=today - 12 * DAY)

    assert kinds(project, today) == []


# --- a reliable payer who suddenly stops -----------------------------------------------------------


def reliable_payer(project, steward, cashier, item, today, months=8):
    """Pays every monthly bill five days before its due date, for ``months`` months."""
    acct = factories.debtor(project, "6-1-0601", owner="王五", steward=steward)
    start = today - (months + 3) * 30 * DAY
    for n in range(months):
        period = start + n * 30 * DAY
        bill = factories.bill(acct, item, "300.00", period, period + 14 * DAY)
        factories.pay(
            cashier, acct, "300.00", include_late_fees=False, business_date=bill.due_date - 5 * DAY
        )
    return acct


def test_a_reliable_payer_who_stops_raises_one_warning(project, steward, cashier, item, today):
    acct = reliable_payer(project, steward, cashier, item, today)
    factories.bill(acct, item, "300.00", today - 50 * DAY, today - 20 * DAY)
    credit_recompute(project=project, on=today)

    first, second = run_twice(project, today)

    warning = Warning.objects.get(kind=WarningKind.RELIABLE_STOPPED)
    assert warning.account == acct and warning.amount == 300
    assert "100% 按时" in warning.detail
    assert first.raised[WarningKind.RELIABLE_STOPPED] == 1 and second.total == 0


def test_a_reliable_payer_inside_the_grace_period_raises_nothing(
    project, steward, cashier, item, today
):
    acct = reliable_payer(project, steward, cashier, item, today)
    factories.bill(acct, item, "300.00", today - 30 * DAY, today - 3 * DAY)
    credit_recompute(project=project, on=today)

    assert WarningKind.RELIABLE_STOPPED not in kinds(project, today)


def test_a_chronic_debtor_who_is_overdue_again_is_not_a_reliable_payer(
    project, steward, cashier, item, today
):
    acct = factories.debtor(project, "6-1-0601", steward=steward)
    start = today - 11 * 30 * DAY
    for n in range(8):
        period = start + n * 30 * DAY
        bill = factories.bill(acct, item, "300.00", period, period + 14 * DAY)
        factories.pay(
            cashier, acct, "300.00", include_late_fees=False, business_date=bill.due_date + 40 * DAY
        )
    factories.bill(acct, item, "300.00", today - 50 * DAY, today - 20 * DAY)
    credit_recompute(project=project, on=today)

    assert WarningKind.RELIABLE_STOPPED not in kinds(project, today)


# --- repeated complaints, now in arrears -----------------------------------------------------------


def complaints(account, n, opened_at):
    for i in range(n):
        registry.ticket_create(
            user=None,
            room=account.room,
            category="complaint" if i % 2 else "repair",
            subject=f"楼道灯不亮 {i}",
            opened_at=opened_at,
        )


def test_three_complaints_and_an_open_case_raise_one_warning(project, case, debtor, today, morning):
    complaints(debtor, 3, morning - 20 * DAY)

    first, second = run_twice(project, today)

    warning = Warning.objects.get(kind=WarningKind.COMPLAINTS)
    assert warning.case == case and warning.amount == 200
    assert "3 次" in warning.detail
    assert second.total == 0


def test_two_complaints_are_not_repeated_complaints(project, case, debtor, today, morning):
    complaints(debtor, 2, morning - 20 * DAY)

    assert WarningKind.COMPLAINTS not in kinds(project, today)


def test_complaints_of_a_household_not_in_arrears_raise_nothing(
    project, steward, item, today, morning
):
    acct = factories.debtor(project, "9-9-0909", steward=steward)
    complaints(acct, 4, morning - 5 * DAY)

    assert kinds(project, today) == []


# --- promises broken twice -------------------------------------------------------------------------


def promise(steward, case, day, promised):
    at = factories.at(day, 10)
    contact_record(
        user=steward,
        case=case,
        channel=Channel.PHONE,
        reached=True,
        promise_date=promised,
        at=at,
        now=factories.at(factories.today(), 9),
    )


def test_two_broken_promises_raise_one_warning(project, steward, case, today):
    promise(steward, case, today - 12 * DAY, today - 10 * DAY)
    promise(steward, case, today - 8 * DAY, today - 5 * DAY)
    credit_recompute(project=project, on=today)

    first, second = run_twice(project, today)

    warning = Warning.objects.get(kind=WarningKind.PROMISES_BROKEN)
    assert warning.case == case
    assert "失约 2 次" in warning.detail
    assert second.total == 0


def test_one_broken_promise_raises_nothing(project, steward, case, today):
    promise(steward, case, today - 12 * DAY, today - 10 * DAY)
    promise(steward, case, today - 1 * DAY, today + 5 * DAY)  # not yet due
    credit_recompute(project=project, on=today)

    assert WarningKind.PROMISES_BROKEN not in kinds(project, today)


# --- limitation deadline close ---------------------------------------------------------------------


def test_a_limitation_deadline_within_ninety_days_raises_a_warning_then_the_thirty_day_one(
    project, steward, item, today
):
    acct = factories.debtor(project, "7-1-0701", steward=steward)
    due = add_years(today + 60 * DAY, -3)  # limitation ends in 60 days
    factories.bill(acct, item, "100.00", due - 30 * DAY, due)
    factories.run(project)

    assert kinds(project, today).count(WarningKind.LIMITATION) == 1
    assert warnings_run(project=project, on=today + 10 * DAY).total == 0  # still 50 days: same
    later = today + 35 * DAY  # 25 days left: the 30-day warning
    assert warnings_run(project=project, on=later).raised[WarningKind.LIMITATION] == 1

    keys = sorted(Warning.objects.filter(kind=WarningKind.LIMITATION).values_list("key", flat=True))
    assert [k.rsplit("-", 1)[1] for k in keys] == ["30", "90"]


def test_a_limitation_deadline_years_away_raises_nothing(project, case, today):
    assert WarningKind.LIMITATION not in kinds(project, today)


# --- acknowledging ---------------------------------------------------------------------------------


@pytest.fixture
def warning(project, steward, item, today):
    acct = factories.debtor(project, "8-1-0101", steward=steward)
    factories.bill(acct, item, "6000.00", today - 50 * DAY, today - 10 * DAY)
    warnings_run(project=project, on=today)
    return Warning.objects.get()


def test_acknowledging_records_who_when_and_the_note(warning, supervisor):
    done = warning_acknowledge(user=supervisor, warning=warning, note="已安排管家今天上门了解情况")

    done.refresh_from_db()
    assert done.acknowledged_by == supervisor
    assert done.acknowledged_at is not None
    assert done.ack_note == "已安排管家今天上门了解情况"


def test_acknowledging_needs_a_note(warning, supervisor):
    with pytest.raises(ValidationFailed, match="处理说明") as exc:
        warning_acknowledge(user=supervisor, warning=warning, note=" ")

    assert exc.value.field == "note"


def test_a_steward_cannot_acknowledge(warning, steward):
    with pytest.raises(ValidationFailed, match="不能确认预警"):
        warning_acknowledge(user=steward, warning=warning, note="看过了")


def test_a_warning_is_acknowledged_once(warning, supervisor, manager):
    warning_acknowledge(user=supervisor, warning=warning, note="已安排上门")

    with pytest.raises(ValidationFailed, match="已由 supervisor"):
        warning_acknowledge(user=manager, warning=warning, note="再看一次")


def test_an_acknowledged_warning_stays_acknowledged_on_the_next_run(
    warning, supervisor, project, today
):
    warning_acknowledge(user=supervisor, warning=warning, note="已安排上门")

    assert warnings_run(project=project, on=today + DAY).total == 0
    assert Warning.objects.get().acknowledged_by == supervisor


# --- pages -----------------------------------------------------------------------------------------


def test_the_page_lists_open_warnings_and_htmx_acknowledges_a_row(client, warning, supervisor):
    client.force_login(supervisor)
    html = client.get(reverse("alerts:warnings")).content.decode()
    assert "大额新增逾期" in html and "8-1-0101" in html

    response = client.post(
        reverse("alerts:acknowledge", args=[warning.pk]),
        {"note": "已电话了解，业主下周缴"},
        HTTP_HX_REQUEST="true",
    )

    row = response.content.decode()
    assert row.startswith(f'<tr id="warning-{warning.pk}"')
    assert "已确认" in row and "已电话了解，业主下周缴" in row
    html = client.get(reverse("alerts:warnings")).content.decode()
    assert "没有待确认的预警" in html
    html = client.get(reverse("alerts:warnings") + "?state=acknowledged").content.decode()
    assert "已电话了解，业主下周缴" in html


def test_the_page_costs_a_fixed_number_of_queries(
    client, warning, supervisor, project, item, today, django_assert_num_queries
):
    for n in range(5):
        acct = factories.debtor(project, f"8-2-0{n}01", phones=(f"1390000000{n}",))
        factories.bill(acct, item, "7000.00", today - 50 * DAY, today - 10 * DAY)
    warnings_run(project=project, on=today)
    client.force_login(supervisor)
    client.get(reverse("alerts:warnings"))

    # the same seven queries for one row or fifty: every row comes with what it shows
    with django_assert_num_queries(7):
        html = client.get(reverse("alerts:warnings")).content.decode()
    assert html.count('<tr id="warning-') == 6


def test_a_steward_cannot_open_the_warnings_page(client, warning, steward):
    client.force_login(steward)

    assert client.get(reverse("alerts:warnings")).status_code == 403


def test_the_daily_report_shows_the_days_warnings(client, warning, supervisor, project, today):
    report = steward_report(project_ids=[project.pk], period=period_of("day", today))
    section = report.sections[0]
    assert section.context["total"] == 1

    client.force_login(supervisor)
    html = client.get(reverse("dunning:report")).content.decode()
    assert 'id="report-warnings"' in html and "8-1-0101" in html
