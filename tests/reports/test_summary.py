"""The summary tables give exactly the live answers: on hand-built ledgers, after incremental and full
refreshes, for dates inside and at the end of months, and on random ledgers (hypothesis)."""

import datetime

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from tests.ledger.factories import monthly_bills
from tests.reports.builders import (
    D,
    account,
    adjust,
    bill,
    building_of,
    developer_account,
    fee_item,
    pay,
    reverse,
    scope,
)
from wuye.core.roles import Role
from wuye.dunning.models import ArrearsCase
from wuye.ledger.models import Allocation
from wuye.registry.models import Building
from wuye.reports import selectors, summary
from wuye.reports.models import BillFact, LateEvent, OpenBill, SummaryState
from wuye.reports.selectors import GROUPS, Window

pytestmark = pytest.mark.django_db

WINDOWS = [
    Window(D(2025, 1, 1), D(2025, 12, 31)),
    Window(D(2025, 4, 1), D(2025, 6, 30)),
    Window(D(2025, 3, 10), D(2025, 5, 20)),  # not on month boundaries
]
DATES = [D(2025, 1, 31), D(2025, 3, 9), D(2025, 5, 1), D(2025, 6, 30), D(2025, 7, 15)]


def assert_same(s, windows=WINDOWS, dates=DATES, groups=GROUPS):
    for window in windows:
        for as_of in dates:
            for group in groups:
                fast = selectors.collection_rates(s, window, as_of, group)
                slow = selectors.collection_rates(s, window, as_of, group, live=True)
                assert [(r.key, r.figures()) for r in fast] == [
                    (r.key, r.figures()) for r in slow
                ], (window, as_of, group)
    for as_of in dates:
        fast = [(m, r.figures()) for m, r in selectors.rate_trend(s, 12, as_of)]
        assert fast == [(m, r.figures()) for m, r in selectors.rate_trend(s, 12, as_of, live=True)]
        for split in (False, True):
            fast = selectors.aging(s, as_of, "building", split)
            slow = selectors.aging(s, as_of, "building", split, live=True)
            assert [(r.key, r.developer, r.buckets, r.counts, r.total) for r in fast] == [
                (r.key, r.developer, r.buckets, r.counts, r.total) for r in slow
            ], as_of
        for breakdown in (selectors.arrears_by_class, selectors.arrears_by_reason):
            fast = [(r.key, r.cases, r.amount) for r in breakdown(s, as_of)]
            assert fast == [(r.key, r.cases, r.amount) for r in breakdown(s, as_of, live=True)]
        fast = selectors.top_debtors(s, as_of, 10)
        slow = selectors.top_debtors(s, as_of, 10, live=True)
        assert [(d.account_id, d.outstanding, d.late_fee_outstanding) for d in fast] == [
            (d.account_id, d.outstanding, d.late_fee_outstanding) for d in slow
        ]


@pytest.fixture
def supervisor(make_user, project):
    return make_user("supervisor", Role.SUPERVISOR, project)


@pytest.fixture
def busy(project, other_project, cashier, manager, supervisor):
    item, parking = fee_item(project), fee_item(project, code="CWF", name="车位费")
    a, b, c = (account(project, code) for code in ("1-1-101", "1-1-102", "2-1-101"))
    dev = developer_account(project, "3-1-101")
    for acct in (a, b, c, dev):
        monthly_bills(acct, item, D(2025, 1, 1), 6)
    bill(a, parking, "50.00", D(2025, 2, 1))
    pay(cashier, a, "150.00", business_date=D(2025, 3, 10))
    p = pay(cashier, b, "300.00", business_date=D(2025, 5, 1))
    reverse(p, cashier, supervisor, D(2025, 5, 20))
    pay(cashier, b, "100.00", business_date=D(2025, 2, 1))  # back-dated after the reversal
    adjust(c.bills.order_by("period_start").first(), manager, "waiver", "40", D(2025, 3, 12))
    pay(cashier, dev, "700.00", business_date=D(2025, 6, 5))  # pays all and prepays 100
    for acct, cls in ((b, "B"), (c, "E")):
        ArrearsCase.objects.create(
            project=project,
            account=acct,
            room_id=acct.room_id,
            opened_on=D(2025, 2, 1),
            stage_since=D(2025, 2, 1),
            case_class=cls,
        )
    far = account(other_project, "9-1-101")
    monthly_bills(far, fee_item(other_project), D(2025, 1, 1), 3)
    return locals()


def test_summary_answers_equal_live_after_a_full_refresh(project, busy):
    summary.refresh(full=True)
    assert OpenBill.objects.exists()
    assert_same(scope(project))


def test_summary_catches_up_with_new_payments_and_bills(project, busy, cashier):
    summary.refresh(full=True)
    pay(cashier, busy["c"], "120.00", business_date=D(2025, 7, 1))
    monthly_bills(busy["a"], busy["item"], D(2025, 7, 1), 1)
    watermark = SummaryState.objects.get(source="allocation").watermark
    assert_same(scope(project), dates=[D(2025, 7, 15)])
    assert SummaryState.objects.get(source="allocation").watermark > watermark


def money(row):
    return (
        row.current_billed,
        row.current_received,
        row.opening_arrears,
        row.recovered,
        row.late_fee_billed,
        row.late_fee_received,
    )


@pytest.mark.parametrize("live", [False, True])
def test_a_trend_without_households_has_the_same_money_figures_and_no_household_figures(
    project, busy, live
):
    summary.refresh(full=True)
    s, as_of = scope(project), D(2025, 6, 20)
    full = selectors.rate_trend(s, 6, as_of, live=live)
    lean = selectors.rate_trend(s, 6, as_of, live=live, households=False)
    assert any(r.households_billed for _, r in full)  # the ledger has households to leave out
    assert [(m, money(r), r.current_rate, r.overall_rate) for m, r in lean] == [
        (m, money(r), r.current_rate, r.overall_rate) for m, r in full
    ]
    assert all(
        (r.households_billed, r.households_clear, r.household_rate) == (0, 0, None) for _, r in lean
    )


def test_the_trend_counts_only_the_positive_part_of_a_bill_owing_less_than_nothing(
    project, cashier, supervisor
):
    """A payment reversed in March after a back-dated one paid the same bill: on 28 February that
    bill owed −100, which must not cancel February's 100 in March's opening arrears."""
    acct = account(project, "1-1-101")
    monthly_bills(acct, fee_item(project), D(2025, 1, 1), 3)
    first = pay(cashier, acct, "100.00", business_date=D(2025, 2, 10))  # pays January
    reverse(first, cashier, supervisor, D(2025, 3, 15))
    pay(cashier, acct, "100.00", business_date=D(2025, 2, 5))  # back-dated: January again
    summary.refresh(full=True)
    s, as_of = scope(project), D(2025, 4, 10)
    fast = [(m, r.figures()) for m, r in selectors.rate_trend(s, 4, as_of, households=False)]
    slow = selectors.rate_trend(s, 4, as_of, live=True, households=False)
    assert fast == [(m, r.figures()) for m, r in slow]
    assert slow[2][1].opening_arrears > 0  # March: February's bill, not netted against January


def test_a_trend_without_households_runs_fewer_statements(
    project, busy, django_assert_max_num_queries
):
    summary.refresh(full=True)
    s, as_of = scope(project), D(2025, 6, 20)
    with CaptureQueriesContext(connection) as full:
        selectors.rate_trend(s, 12, as_of)
    with django_assert_max_num_queries(len(full) - 3):  # the three household statements
        selectors.rate_trend(s, 12, as_of, households=False)


ROLLED = ("company", "project", "building", "steward")


@pytest.fixture
def stewarded(busy, make_user, project):
    """Two of busy's buildings with a steward each, the rest with none."""
    for code, acct in (("wang", busy["a"]), ("li", busy["c"])):
        user = make_user(code, Role.STEWARD, project)
        Building.objects.filter(pk=building_of(acct).pk).update(steward=user)
    return busy


@pytest.mark.parametrize("live", [False, True])
def test_rates_of_several_groups_at_once_equal_each_group_asked_alone(
    project, other_project, stewarded, live
):
    summary.refresh(full=True)
    s = scope(project, other_project)
    for window, as_of in (
        (Window(D(2025, 1, 1), D(2025, 12, 31)), D(2025, 6, 20)),
        (Window(D(2025, 3, 1), D(2025, 5, 31)), D(2025, 5, 20)),
        (Window(D(2025, 4, 1), D(2025, 4, 30)), D(2025, 3, 31)),
    ):
        many = selectors.collection_rates_many(
            s, window, as_of, dict.fromkeys(ROLLED, True), live=live
        )
        for group_by in ROLLED:
            alone = selectors.collection_rates(s, window, as_of, group_by, live=live)
            assert [(r.key, r.label, r.figures()) for r in many[group_by]] == [
                (r.key, r.label, r.figures()) for r in alone
            ]


def test_rates_without_households_have_the_same_money_figures_and_no_household_figures(
    project, stewarded
):
    summary.refresh(full=True)
    s, window, as_of = scope(project), Window(D(2025, 1, 1), D(2025, 12, 31)), D(2025, 6, 20)
    lean = selectors.collection_rates_many(s, window, as_of, {"company": True, "steward": False})
    full = selectors.collection_rates(s, window, as_of, "steward")
    assert any(r.households_billed for r in full)  # there are households to leave out
    assert [(r.key, money(r), r.current_rate) for r in lean["steward"]] == [
        (r.key, money(r), r.current_rate) for r in full
    ]
    assert all(
        (r.households_billed, r.households_clear, r.household_rate) == (0, 0, None)
        for r in lean["steward"]
    )
    assert lean["company"][0].figures() == (
        selectors.collection_rates(s, window, as_of, "company")[0].figures()
    )


def test_rates_of_several_groups_read_the_facts_once(project, stewarded):
    summary.refresh(full=True)
    s, window, as_of = scope(project), Window(D(2025, 1, 1), D(2025, 12, 31)), D(2025, 6, 20)
    table = BillFact._meta.db_table

    def fact_reads(queries) -> int:
        return sum(table in q["sql"] for q in queries)

    with CaptureQueriesContext(connection) as alone:
        for group_by in ("company", "steward"):
            selectors.collection_rates(s, window, as_of, group_by)
    with CaptureQueriesContext(connection) as many:
        selectors.collection_rates_many(s, window, as_of, {"company": True, "steward": True})
    assert fact_reads(alone.captured_queries) == 2
    assert fact_reads(many.captured_queries) == 1


def test_the_summaries_are_not_used_before_they_are_built(project, busy):
    assert summary.catch_up() is None


def test_a_row_committed_late_below_the_watermark_is_read_on_the_next_refresh(
    project, busy, cashier
):
    """A gap in the ids (a transaction still open when the refresh read) is re-read later."""
    summary.refresh(full=True)
    state = SummaryState.objects.get(source="allocation")
    last = Allocation.objects.order_by("-id").first()
    # Pretend the last allocation had not committed when the summaries were read.
    state.watermark = last.pk - 1
    state.save()
    BillFact.objects.filter(
        received_fen__gt=0,
        period_start=last.bill.period_start,
        event_month=last.effective_date.replace(day=1),
        building_id=last.bill.room.building_id,
        fee_item_id=last.bill.fee_item_id,
    ).update(received_fen=F("received_fen") - int(last.amount * 100))
    LateEvent.objects.filter(source="allocation", event_id=last.pk).delete()
    state.gaps = [[last.pk, last.pk, datetime.datetime.now(datetime.UTC).isoformat()]]
    state.watermark = last.pk
    state.save()
    summary.refresh()
    state.refresh_from_db()
    assert state.gaps == []
    assert_same(scope(project), dates=[D(2025, 6, 30), D(2025, 7, 15)])


def test_check_command_passes_when_the_summaries_equal_the_ledger(project, busy, capsys):
    call_command("report_summary_refresh", "--full")
    call_command("report_summary_check")
    assert "完全一致" in capsys.readouterr().out


def test_check_command_names_the_key_that_differs_and_exits_1(project, busy, capsys):
    summary.refresh(full=True)
    fact = BillFact.objects.filter(received_fen__gt=0).order_by("id").first()
    BillFact.objects.filter(pk=fact.pk).update(received_fen=F("received_fen") + 1)
    with pytest.raises(SystemExit) as exit_:
        call_command("report_summary_check", "--project", project.code)
    assert exit_.value.code == 1
    out = capsys.readouterr().out
    assert "BillFact" in out and str(fact.received_fen + 1) in out and str(fact.received_fen) in out


def test_a_committed_billing_run_queues_the_refresh(project, busy, settings):
    from wuye.reports import tasks

    tasks.after_billing_run(run_id=0)  # immediate backend in tests: runs at once
    assert SummaryState.objects.filter(source="bill", watermark__gt=0).exists()
    assert summary.check() == []
