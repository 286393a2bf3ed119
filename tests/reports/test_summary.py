"""The summary tables give exactly the live answers: on hand-built ledgers, after incremental and full
refreshes, for dates inside and at the end of months, and on random ledgers (hypothesis)."""

import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

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
from wuye.billing.models import Bill
from wuye.core.models import User
from wuye.core.roles import Role
from wuye.dunning.models import ArrearsCase, CollectionTeam
from wuye.ledger.models import Allocation
from wuye.registry import services as registry
from wuye.registry.models import Building
from wuye.reports import selectors, summary_check, summary_refresh, summary_rollups
from wuye.reports.models import (
    AccountDebt,
    BillFact,
    BuildingSteward,
    IrregularSpell,
    LateEvent,
    OpenBill,
    RollupState,
    StewardFact,
    SummaryState,
)
from wuye.reports.sql import GROUPS, Window

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
        assert selectors.arrears_breakdowns(s, as_of) == (
            selectors.arrears_by_class(s, as_of, live=True),
            selectors.arrears_by_reason(s, as_of, live=True),
        )
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
    summary_refresh.refresh(full=True)
    assert OpenBill.objects.exists()
    assert_same(scope(project))


def test_summary_catches_up_with_new_payments_and_bills(project, busy, cashier):
    summary_refresh.refresh(full=True)
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
    summary_refresh.refresh(full=True)
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
    summary_refresh.refresh(full=True)
    s, as_of = scope(project), D(2025, 4, 10)
    fast = [(m, r.figures()) for m, r in selectors.rate_trend(s, 4, as_of, households=False)]
    slow = selectors.rate_trend(s, 4, as_of, live=True, households=False)
    assert fast == [(m, r.figures()) for m, r in slow]
    assert slow[2][1].opening_arrears > 0  # March: February's bill, not netted against January


def test_a_bill_owing_less_than_nothing_is_kept_as_a_spell_from_the_back_dated_payment(
    project, cashier, supervisor
):
    acct = account(project, "1-1-101")
    january = monthly_bills(acct, fee_item(project), D(2025, 1, 1), 3)[0]
    first = pay(cashier, acct, "100.00", business_date=D(2025, 2, 10))
    reverse(first, cashier, supervisor, D(2025, 3, 15))
    pay(cashier, acct, "100.00", business_date=D(2025, 2, 5))
    summary_refresh.refresh(full=True)
    # Paid on 5 Feb (back-dated), again on 10 Feb: −100 from then until the reversal's day.
    assert list(
        IrregularSpell.objects.filter(bill_id=january.pk).values_list("starts", "ends", "owed_fen")
    ) == [(D(2025, 2, 10), D(2025, 3, 15), 10000)]
    IrregularSpell.objects.filter(bill_id=january.pk).update(owed_fen=9999)
    [diff] = summary_check.check()
    assert diff.table == "IrregularSpell"
    assert (diff.summary, diff.live) == (("2025-03-15", 9999), ("2025-03-15", 10000))


def test_a_trend_without_households_runs_fewer_statements(
    project, busy, django_assert_max_num_queries
):
    summary_refresh.refresh(full=True)
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
    summary_refresh.refresh(full=True)
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
    summary_refresh.refresh(full=True)
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
    summary_refresh.refresh(full=True)
    s, window, as_of = scope(project), Window(D(2025, 1, 1), D(2025, 12, 31)), D(2025, 6, 20)
    tables = (BillFact._meta.db_table, StewardFact._meta.db_table)

    def fact_reads(queries) -> int:
        return sum(any(f"FROM {t} " in q["sql"] for t in tables) for q in queries)

    with CaptureQueriesContext(connection) as alone:
        for group_by in ("company", "steward"):
            selectors.collection_rates(s, window, as_of, group_by)
    with CaptureQueriesContext(connection) as many:
        selectors.collection_rates_many(s, window, as_of, {"company": True, "steward": True})
    assert fact_reads(alone.captured_queries) == 2
    assert fact_reads(many.captured_queries) == 1


def test_the_summaries_are_not_used_before_they_are_built(project, busy):
    assert summary_refresh.catch_up() is None


def test_a_row_committed_late_below_the_watermark_is_read_on_the_next_refresh(
    project, busy, cashier
):
    """A gap in the ids (a transaction still open when the refresh read) is re-read later."""
    summary_refresh.refresh(full=True)
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
    StewardFact.objects.filter(
        received_fen__gt=0,
        period_start=last.bill.period_start,
        due_date=last.bill.due_date,
        kind=last.bill.kind,
        event_month=last.effective_date.replace(day=1),
        steward_id=last.bill.room.building.steward_id or 0,
        fee_item_id=last.bill.fee_item_id,
    ).update(received_fen=F("received_fen") - int(last.amount * 100))
    LateEvent.objects.filter(source="allocation", event_id=last.pk).delete()
    state.gaps = [[last.pk, last.pk, datetime.datetime.now(datetime.UTC).isoformat()]]
    state.watermark = last.pk
    state.save()
    summary_refresh.refresh()
    state.refresh_from_db()
    assert state.gaps == []
    assert_same(scope(project), dates=[D(2025, 6, 30), D(2025, 7, 15)])


def test_check_command_passes_when_the_summaries_equal_the_ledger(project, busy, capsys):
    call_command("report_summary_refresh", "--full")
    call_command("report_summary_check")
    assert "完全一致" in capsys.readouterr().out


def test_check_command_names_the_key_that_differs_and_exits_1(project, busy, capsys):
    summary_refresh.refresh(full=True)
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
    assert summary_check.check() == []


# --- roll-ups above the summaries: StewardFact and AccountDebt -------------------------------------


def reads(queries, model) -> int:
    return sum(f"FROM {model._meta.db_table} " in q["sql"] for q in queries)


def this_year_and_a_window_to_today(today):
    return [Window(D(2025, 1, 1), D(2025, 12, 31)), Window(D(2025, 3, 10), today)]


def test_reports_on_the_debt_date_read_account_debt_and_equal_live(project, stewarded):
    summary_refresh.refresh(full=True)
    today = timezone.localdate()
    assert RollupState.objects.get(name="debt").as_of == today
    with CaptureQueriesContext(connection) as queries:
        assert_same(scope(project), windows=this_year_and_a_window_to_today(today), dates=[today])
    assert reads(queries.captured_queries, AccountDebt) > 0


def test_steward_and_team_scopes_on_the_debt_date_equal_live(project, stewarded, make_user):
    summary_refresh.refresh(full=True)
    today, wang = timezone.localdate(), User.objects.get(username="wang")
    team = CollectionTeam.objects.create(project=project, name="一组", leader=wang)
    for s in (scope(project, steward_id=wang.pk), scope(project, team_id=team.pk)):
        assert_same(s, windows=this_year_and_a_window_to_today(today), dates=[today])


def test_company_project_and_steward_rates_read_steward_facts_not_building_facts(
    project, stewarded
):
    summary_refresh.refresh(full=True)
    window, as_of = Window(D(2025, 1, 1), D(2025, 12, 31)), D(2025, 6, 20)
    with CaptureQueriesContext(connection) as queries:
        selectors.collection_rates_many(
            scope(project), window, as_of, {"company": True, "project": True, "steward": True}
        )
        selectors.rate_trend(scope(project), 12, as_of, households=False)
    assert reads(queries.captured_queries, StewardFact) == 2
    assert reads(queries.captured_queries, BillFact) == 0


def test_a_payment_after_the_refresh_is_in_todays_account_debt(project, busy, cashier):
    summary_refresh.refresh(full=True)
    today = timezone.localdate()
    before = AccountDebt.objects.get(account_id=busy["c"].pk).principal_fen
    pay(cashier, busy["c"], "120.00", business_date=today)
    assert_same(scope(project), windows=this_year_and_a_window_to_today(today), dates=[today])
    assert AccountDebt.objects.get(account_id=busy["c"].pk).principal_fen == before - 12000
    assert RollupState.objects.get(name="debt").as_of == today


def test_an_account_that_pays_everything_leaves_account_debt(project, busy, cashier):
    summary_refresh.refresh(full=True)
    row = AccountDebt.objects.get(account_id=busy["a"].pk)
    owed = Decimal(row.principal_fen + row.late_fee_fen) / 100
    pay(cashier, busy["a"], owed, business_date=timezone.localdate())
    summary_refresh.refresh()
    assert not AccountDebt.objects.filter(account_id=busy["a"].pk, principal_fen__gt=0).exists()
    assert summary_check.check() == []


def test_a_building_that_changes_steward_takes_its_facts_to_the_new_steward(
    project, stewarded, make_user
):
    summary_refresh.refresh(full=True)
    zhao = make_user("zhao", Role.STEWARD, project)
    building = building_of(stewarded["a"])
    registry.building_assign_steward(user=None, building=building, steward=zhao)
    assert summary_rollups.stewards_moved()
    window, as_of = Window(D(2025, 1, 1), D(2025, 12, 31)), D(2025, 6, 20)
    fast = selectors.collection_rates(scope(project), window, as_of, "steward")
    slow = selectors.collection_rates(scope(project), window, as_of, "steward", live=True)
    assert [(r.key, r.figures()) for r in fast] == [(r.key, r.figures()) for r in slow]
    assert zhao.pk in {r.key for r in fast}
    assert not summary_rollups.stewards_moved()
    assert BuildingSteward.objects.get(building_id=building.pk).steward_id == zhao.pk
    assert summary_check.check() == []


def test_on_a_new_day_reports_answer_from_the_open_bills_until_the_refresh(project, busy, cashier):
    summary_refresh.refresh(full=True)
    today = timezone.localdate()
    RollupState.objects.filter(name="debt").update(as_of=today - datetime.timedelta(days=1))
    pay(cashier, busy["b"], "50.00", business_date=today)
    summary_refresh.refresh(
        new_day=False
    )  # a report catches up with it (AccountDebt keeps its date)
    with CaptureQueriesContext(connection) as queries:
        assert_same(scope(project), windows=this_year_and_a_window_to_today(today), dates=[today])
    assert reads(queries.captured_queries, AccountDebt) == 0
    summary_refresh.refresh()  # the refresh task or the nightly run
    assert RollupState.objects.get(name="debt").as_of == today
    assert summary_check.check() == []


def test_account_debt_of_yesterday_takes_in_a_payment_back_dated_to_it_before_the_days_refresh(
    project, busy, cashier
):
    summary_refresh.refresh(full=True)
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    summary_rollups._rebuild_debt(yesterday, timezone.now())  # the state before today's refresh
    before = AccountDebt.objects.get(account_id=busy["c"].pk).principal_fen
    pay(cashier, busy["c"], "120.00", business_date=yesterday)  # a report catches up with it
    with CaptureQueriesContext(connection) as queries:
        fast = selectors.aging(scope(project), yesterday, "building", True)
    assert reads(queries.captured_queries, AccountDebt) > 0
    slow = selectors.aging(scope(project), yesterday, "building", True, live=True)
    assert [(r.key, r.buckets, r.counts) for r in fast] == [
        (r.key, r.buckets, r.counts) for r in slow
    ]
    assert AccountDebt.objects.get(account_id=busy["c"].pk).principal_fen == before - 12000
    assert RollupState.objects.get(name="debt").as_of == yesterday
    assert summary_check.check() == []


def test_summaries_built_before_the_roll_ups_existed_get_them_on_the_next_refresh(
    project, stewarded
):
    summary_refresh.refresh(full=True)
    StewardFact.objects.all().delete()
    BuildingSteward.objects.all().delete()
    AccountDebt.objects.all().delete()
    IrregularSpell.objects.all().delete()
    RollupState.objects.all().delete()
    summary_refresh.refresh()
    assert StewardFact.objects.exists() and AccountDebt.objects.exists()
    assert IrregularSpell.objects.exists()  # busy's reversed payment left a bill below zero
    assert summary_check.check() == []


def test_check_names_an_account_debt_row_that_differs(project, busy):
    summary_refresh.refresh(full=True)
    row = AccountDebt.objects.filter(principal_fen__gt=0).order_by("account_id").first()
    AccountDebt.objects.filter(pk=row.pk).update(principal_fen=F("principal_fen") + 1)
    [diff] = summary_check.check()
    assert diff.table.startswith("AccountDebt") and diff.key == (row.account_id, row.building_id)


def test_check_names_a_steward_fact_that_differs(project, stewarded):
    summary_refresh.refresh(full=True)
    fact = StewardFact.objects.filter(billed_fen__gt=0).order_by("id").first()
    StewardFact.objects.filter(pk=fact.pk).update(billed_fen=F("billed_fen") + 1)
    [diff] = summary_check.check()
    assert diff.table == "StewardFact" and diff.summary[0] == fact.billed_fen + 1


def test_an_account_with_bills_in_two_buildings_counts_once_in_the_company_aging(
    project, busy, stewarded
):
    a, c = busy["a"], busy["c"]
    Bill.objects.create(  # a's parking space billed on a room of c's building
        project_id=a.project_id,
        account=a,
        room_id=c.room_id,
        fee_item=busy["parking"],
        period_start=D(2025, 3, 1),
        period_end=D(2025, 3, 31),
        amount=Decimal("60.00"),
        due_date=D(2025, 3, 15),
    )
    summary_refresh.refresh(full=True)
    assert RollupState.objects.get(name="debt").shared_accounts == 1
    today = timezone.localdate()
    for group in ("company", "steward", "building"):
        fast = selectors.aging(scope(project), today, group, True)
        slow = selectors.aging(scope(project), today, group, True, live=True)
        assert [(r.key, r.buckets, r.counts, r.accounts) for r in fast] == [
            (r.key, r.buckets, r.counts, r.accounts) for r in slow
        ], group
    # The company's household counts (AccountDebt's "behind") count a once, too. (By steward or
    # building they do not yet: AccountSpan files a's parking under one building only.)
    window = Window(D(2025, 1, 1), today)
    fast = selectors.collection_rates(scope(project), window, today)
    assert (
        fast[0].figures()
        == selectors.collection_rates(scope(project), window, today, live=True)[0].figures()
    )
    assert summary_check.check() == []


BEHIND = [
    ("current_unpaid", {}),
    ("recovery_unpaid", {}),
    ("not_clear", {}),
    ("aging", {}),
    ("aging", {"bucket": 3}),
    ("aging", {"developer": True}),
    ("aging", {"group_by": "steward", "key": 0}),
    ("current_unpaid", {"group_by": "fee_item", "key": None}),
    ("class", {"key": "B"}),
    ("reason", {"key": ""}),
]


def behind_rows(s, figure, as_of, live, **kwargs):
    window = Window(D(2025, 1, 1), D(2025, 12, 31))
    rows = selectors.accounts_behind(
        s, figure=figure, window=window, as_of=as_of, live=live, **kwargs
    )
    return [(r.account_id, r.amount, r.oldest_due_date, r.bills) for r in rows]


def test_the_households_behind_each_figure_as_of_today_come_from_the_open_bills(project, stewarded):
    summary_refresh.refresh(full=True)
    today = timezone.localdate()
    for figure, kwargs in BEHIND:
        with CaptureQueriesContext(connection) as queries:
            fast = behind_rows(scope(project), figure, today, False, **kwargs)
        assert reads(queries.captured_queries, OpenBill) == 1, figure
        assert fast == behind_rows(scope(project), figure, today, True, **kwargs), figure


def test_a_page_and_the_totals_of_the_households_behind_a_figure_agree_with_the_whole_list(
    project, stewarded
):
    summary_refresh.refresh(full=True)
    today, window = timezone.localdate(), Window(D(2025, 1, 1), D(2025, 12, 31))
    question = {"figure": "aging", "window": window, "as_of": today}
    whole = selectors.accounts_behind(scope(project), **question)
    page = selectors.accounts_behind(scope(project), **question, limit=2, offset=1)
    assert [r.account_id for r in page] == [r.account_id for r in whole[1:3]]
    assert selectors.behind_totals(scope(project), **question) == (
        len(whole),
        sum(r.amount for r in whole),
    )
    assert selectors.behind_totals(scope(project), **question, limit=1) == (1, whole[0].amount)


def test_households_behind_a_figure_on_a_date_with_later_payments_are_read_live(project, busy):
    summary_refresh.refresh(full=True)
    as_of = D(2025, 3, 31)  # payments dated after it exist
    with CaptureQueriesContext(connection) as queries:
        fast = behind_rows(scope(project), "aging", as_of, False)
    assert reads(queries.captured_queries, OpenBill) == 0
    assert fast == behind_rows(scope(project), "aging", as_of, True)
