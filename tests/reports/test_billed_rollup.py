"""The households-billed roll-up of decision 0020: BilledRange (accounts billed in every month of one
range, in one building, counted per range) and BilledIrregular (the other accounts, counted from their
AccountSpan rows). Hand-computed ledgers, the live answer beside them, and each kept current after a
new bill, a payment and a reversal."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.reports.builders import D, account, bill, fee_item, month, pay, reverse, scope
from wuye.billing.calc import month_end
from wuye.billing.models import Bill
from wuye.core.roles import Role
from wuye.reports import selectors, summary_check, summary_refresh
from wuye.reports.models import AccountSpan, BilledIrregular, BilledRange, RollupState
from wuye.reports.sql import Window

pytestmark = pytest.mark.django_db

JAN, FEB, MAR, APR, MAY, JUN = (D(2025, m, 1) for m in range(1, 7))
AS_OF = D(2025, 6, 30)


def reads(queries, model) -> int:
    return sum(f"FROM {model._meta.db_table} " in q["sql"] for q in queries)


@pytest.fixture
def supervisor(make_user, project):
    return make_user("supervisor", Role.SUPERVISOR, project)


@pytest.fixture
def ledger(project):
    """Five households, billed principal on the 1st of these months:

    - a (building one): property fee January–March;
    - b (building one): property fee January–March and parking March–May — one range, January–May;
    - c (building one): property fee January and March (February left out);
    - d (building one): property fee January–February and parking April–May (March left out);
    - e (building two): property fee January–March, and parking for February on a room of
      building one (billed in two buildings)."""
    property_fee = fee_item(project)
    parking = fee_item(project, code="CWF", name="车位费")
    a, b, c, d = (account(project, f"1-1-10{n}") for n in range(1, 5))
    e = account(project, "2-1-101")
    for acct, item, months in (
        (a, property_fee, (JAN, FEB, MAR)),
        (b, property_fee, (JAN, FEB, MAR)),
        (b, parking, (MAR, APR, MAY)),
        (c, property_fee, (JAN, MAR)),
        (d, property_fee, (JAN, FEB)),
        (d, parking, (APR, MAY)),
        (e, property_fee, (JAN, FEB, MAR)),
    ):
        for first in months:
            bill(acct, item, "100.00", first)
    Bill.objects.create(
        project_id=project.pk,
        account=e,
        room_id=a.room_id,
        fee_item=parking,
        period_start=FEB,
        period_end=month_end(FEB),
        amount="30.00",
        due_date=FEB + datetime.timedelta(days=14),
    )
    return {
        "a": a,
        "b": b,
        "c": c,
        "d": d,
        "e": e,
        "property_fee": property_fee,
        "parking": parking,
        "one": a.room.building_id,
        "two": e.room.building_id,
    }


def ranges(project) -> dict[tuple, int]:
    return {
        (r.building_id, r.first_period, r.last_period): r.accounts
        for r in BilledRange.objects.filter(project_id=project.pk)
    }


def irregular() -> set[int]:
    return set(BilledIrregular.objects.values_list("account_id", flat=True))


def billed(project, window, group="company", live=False, **narrow) -> dict:
    s = scope(project, **narrow)
    rows = selectors.collection_rates(s, window, AS_OF, group, live=live)
    return {r.key: r.households_billed for r in rows}


WINDOWS = [
    month(2025, 2),
    month(2025, 3),
    month(2025, 4),
    month(2025, 6),
    Window(JAN, D(2025, 12, 31)),
    Window(D(2025, 2, 10), D(2025, 3, 20)),  # March's bills only: the first 1st in it
    Window(D(2025, 2, 10), D(2025, 2, 20)),  # no 1st in it: nothing billed
]


def assert_all_live(project, **narrow):
    """Every window and group from the summaries equals the live answer, the trend too."""
    for window in WINDOWS:
        for group in ("company", "building", "steward", "fee_item"):
            fast = billed(project, window, group, **narrow)
            assert fast == billed(project, window, group, live=True, **narrow), (window, group)
    s = scope(project, **narrow)
    fast = [(m, r.figures()) for m, r in selectors.rate_trend(s, 6, AS_OF)]
    assert fast == [(m, r.figures()) for m, r in selectors.rate_trend(s, 6, AS_OF, live=True)]


def test_households_billed_come_from_billed_ranges(project, ledger):
    summary_refresh.refresh(full=True)
    one, two = ledger["one"], ledger["two"]
    assert ranges(project) == {(one, JAN, MAR): 1, (one, JAN, MAY): 1}
    assert irregular() == {ledger[x].pk for x in "cde"}
    with CaptureQueriesContext(connection) as queries:
        counts = [billed(project, w)[None] for w in WINDOWS]
    # February: a, b, d, e (c skipped it); March: a, b, c, e; April: b, d; June: nobody; the year:
    # all five; 10 February–20 March: March's bills; 10–20 February: no bill's period starts in it.
    assert counts == [4, 4, 2, 0, 5, 4, 0]
    assert reads(queries.captured_queries, BilledRange) == len(WINDOWS) - 1
    # Not a distinct count over every AccountSpan row any more: only the irregular accounts' rows.
    span_counts = [
        q["sql"]
        for q in queries.captured_queries
        if f"FROM {AccountSpan._meta.db_table} f" in q["sql"] and "COUNT(DISTINCT" in q["sql"]
    ]
    assert span_counts and all(BilledIrregular._meta.db_table in sql for sql in span_counts)
    # e counts in both buildings in February, as its spans do.
    assert billed(project, month(2025, 2), "building") == {one: 4, two: 1}
    assert_all_live(project)
    assert summary_check.check() == []


def test_billed_ranges_are_kept_current_after_new_bills_a_payment_and_a_reversal(
    project, ledger, cashier, supervisor
):
    summary_refresh.refresh(full=True)
    one = ledger["one"]
    a, c, d = ledger["a"], ledger["c"], ledger["d"]
    # c's February bill fills its gap: one range, January–March, beside a's.
    bill(c, ledger["property_fee"], "100.00", FEB)
    assert billed(project, month(2025, 2))[None] == 5
    assert ranges(project) == {(one, JAN, MAR): 2, (one, JAN, MAY): 1}
    assert irregular() == {d.pk, ledger["e"].pk}
    assert_all_live(project)
    assert summary_check.check() == []
    # a's April and May bills move it from January–March to January–May (via January–April).
    bill(a, ledger["property_fee"], "100.00", APR)
    assert billed(project, month(2025, 4))[None] == 3  # the report reads the new bill in first
    assert ranges(project) == {(one, JAN, MAR): 1, (one, JAN, APR): 1, (one, JAN, MAY): 1}
    bill(a, ledger["property_fee"], "100.00", MAY)
    assert billed(project, month(2025, 5))[None] == 3
    assert ranges(project) == {(one, JAN, MAR): 1, (one, JAN, MAY): 2}
    assert_all_live(project)
    assert summary_check.check() == []
    # A payment and its 冲红 bill nothing: the ranges stay as they are.
    payment = pay(cashier, d, "150.00", business_date=D(2025, 6, 1))
    assert billed(project, month(2025, 4))[None] == 3
    reverse(payment, cashier, supervisor, D(2025, 6, 2))
    assert billed(project, month(2025, 4))[None] == 3
    assert ranges(project) == {(one, JAN, MAR): 1, (one, JAN, MAY): 2}
    assert irregular() == {d.pk, ledger["e"].pk}
    assert_all_live(project)
    assert summary_check.check() == []


def test_fee_item_questions_count_the_spans(project, ledger):
    summary_refresh.refresh(full=True)
    parking = ledger["parking"].pk
    with CaptureQueriesContext(connection) as queries:
        # Parking in April: b and d.
        assert billed(project, month(2025, 4), fee_item_ids=(parking,)) == {None: 2}
    assert reads(queries.captured_queries, BilledRange) == 0
    assert_all_live(project, fee_item_ids=(parking,))


def test_a_database_summarised_before_billed_ranges_gets_them_on_the_next_refresh(project, ledger):
    summary_refresh.refresh(full=True)
    BilledRange.objects.all().delete()
    BilledIrregular.objects.all().delete()
    RollupState.objects.filter(name="billed").delete()
    with CaptureQueriesContext(connection) as queries:
        assert billed(project, month(2025, 2))[None] == 4  # from the spans meanwhile
    assert reads(queries.captured_queries, BilledRange) == 0
    assert_all_live(project)
    bill(ledger["c"], ledger["property_fee"], "100.00", FEB)
    summary_refresh.refresh(new_day=False)  # a report catching up leaves it to the refresh task
    assert not RollupState.objects.filter(name="billed").exists()
    summary_refresh.refresh()
    assert RollupState.objects.filter(name="billed").exists()
    assert ranges(project) == {(ledger["one"], JAN, MAR): 2, (ledger["one"], JAN, MAY): 1}
    assert_all_live(project)
    assert summary_check.check() == []


def test_check_names_a_billed_range_or_irregular_account_that_differs(project, ledger):
    summary_refresh.refresh(full=True)
    one = ledger["one"]
    BilledRange.objects.filter(building_id=one, last_period=MAR).update(accounts=2)
    BilledIrregular.objects.filter(account_id=ledger["c"].pk).delete()
    diffs = summary_check.check()
    assert [(d.table, d.key, d.summary, d.live) for d in diffs] == [
        ("BilledRange", (project.pk, one, "2025-01-01", "2025-03-01"), (2,), (1,)),
        ("BilledIrregular", (ledger["c"].pk,), None, ()),
    ]
