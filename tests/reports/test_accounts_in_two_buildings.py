"""Household counts of an account whose bills of ONE fee item name rooms in two buildings (a room
change, a shared payer): per building, per steward and under a building's or a steward's scope.

The rule (GLOSSARY.md "Household rate", applied per group as the live query groups): a group's
households are counted on **that group's bills only**. An account is billed in a group iff it has a
principal bill of the window naming a room of the group (a building, a steward's buildings, …); it is
clear there iff none of those bills is overdue and unpaid on the report date, and has paid everything
there iff none of those bills is unpaid. So an account billed in two buildings counts once in each
building's row (clear in one, behind in the other, as its bills there are), once in a steward's row
however many of the steward's buildings its bills name, and once in the company's row — clear there
only if clear on every bill of the window. The groups' rows therefore add up to more than the company's
(as a steward in two teams counts in both): the company count is not a sum of the buildings'.

The summaries kept one AccountSpan per account and fee item, filed under the lowest of its bills'
buildings, so "households billed" per building and per steward (and in a building's or a steward's
scope) counted such an account only under that building, while its "behind" and "owing" rows
(AccountDebt, AccountOwing, the open bills) were per building: a building could show fewer households
clear than behind. AccountSpan is now per account, fee item and building (decision 0020, amendment).
"""

import datetime

import pytest
from django.utils import timezone

from tests.reports.builders import account, bill_on, fee_item, pay, scope
from wuye.billing.calc import add_months, month_end
from wuye.billing.models import Bill
from wuye.core.roles import Role
from wuye.registry import services as registry
from wuye.registry.models import Building
from wuye.reports import selectors, summary_check, summary_refresh
from wuye.reports.models import AccountSpan, BilledIrregular, RollupState
from wuye.reports.sql import Window

pytestmark = pytest.mark.django_db


@pytest.fixture
def ledger(project, cashier, make_user):
    """Three buildings: A and C with steward wang, B with steward li. One fee item, ¥100 a month for
    the last three months (M3, M2, M1: due) and this month (M0: due in ten days), paid today:

    - x (room 1-1-101, A): M3, M2 name its room in A, M1, M0 a room of B (2-1-102: it moved);
      pays ¥200 — M3 and M2: clear and paid in A, behind in B;
    - y (2-1-101, B): all four in its room; pays ¥400 — clear and paid;
    - z (1-1-102, A): all four in its room; pays nothing — behind;
    - w (3-1-101, C): M3, M2 in its room in C, M1, M0 name z's room in A (a shared payer); pays ¥300
      — clear and paid in C; clear in A but not paid (M0, not due yet).
    """
    today = timezone.localdate()
    m3, m2, m1, m0 = (add_months(today, -n) for n in (3, 2, 1, 0))
    due0 = today + datetime.timedelta(days=10)
    item = fee_item(project)
    x = account(project, "1-1-101")
    y = account(project, "2-1-101")
    z = account(project, "1-1-102")
    w = account(project, "3-1-101")
    moved_to = registry.room_create(user=None, project=project, code="2-1-102")
    wang = make_user("wang", Role.STEWARD, project)
    li = make_user("li", Role.STEWARD, project)
    a, b, c = (acct.room.building_id for acct in (x, y, w))
    assert moved_to.building_id == b and a < b < c
    Building.objects.filter(pk__in=(a, c)).update(steward=wang)
    Building.objects.filter(pk=b).update(steward=li)
    rooms = {
        (x, m3): x.room_id,
        (x, m2): x.room_id,
        (x, m1): moved_to.pk,
        (x, m0): moved_to.pk,
        (w, m3): w.room_id,
        (w, m2): w.room_id,
        (w, m1): z.room_id,
        (w, m0): z.room_id,
    }
    for acct in (x, y, z, w):
        for first in (m3, m2, m1, m0):
            due = due0 if first == m0 else None
            bill_on(acct, item, rooms.get((acct, first), acct.room_id), first, due=due)
    for acct, amount in ((x, "200.00"), (y, "400.00"), (w, "300.00")):
        pay(cashier, acct, amount, business_date=today, include_late_fees=False)
    # Every bill by hand: (account, building, period, due date, the day it was paid or None).
    where = {"x": (a, a, b, b), "y": (b,) * 4, "z": (a,) * 4, "w": (c, c, a, a)}
    paid_months = {"x": 2, "y": 4, "z": 0, "w": 3}
    periods = (m3, m2, m1, m0)
    bills = [
        (
            name,
            where[name][n],
            first,
            due0 if first == m0 else first + datetime.timedelta(days=14),
            today if n < paid_months[name] else None,
        )
        for name in "xyzw"
        for n, first in enumerate(periods)
    ]
    return {
        "today": today,
        "months": periods,
        "bills": bills,
        "accounts": {"x": x, "y": y, "z": z, "w": w},
        "buildings": {"A": a, "B": b, "C": c},
        "stewards": {a: wang.pk, b: li.pk, c: wang.pk},
        "wang": wang,
        "li": li,
    }


def by_rule(ledger, window, as_of, group_by, buildings=None) -> dict:
    """The GLOSSARY rule per group, by hand: (billed, clear, paid everything) of each group with a
    household billed, counting each account on its bills of the window in that group."""
    key = {
        "company": lambda bd: None,
        "building": lambda bd: bd,
        "steward": lambda bd: ledger["stewards"][bd],
    }[group_by]
    seen: dict = {}
    for name, bd, first, due, paid_on in ledger["bills"]:
        if buildings is not None and bd not in buildings:
            continue
        if not window.start <= first <= window.end:
            continue
        unpaid = paid_on is None or paid_on > as_of
        overdue, owing = seen.setdefault((key(bd), name), [False, False])
        seen[(key(bd), name)] = [overdue or (unpaid and due <= as_of), owing or unpaid]
    out: dict = {}
    for (g, _name), (overdue, owing) in seen.items():
        n, clear, paid = out.get(g, (0, 0, 0))
        out[g] = (n + 1, clear + (not overdue), paid + (not owing))
    return out


def counted(s, window, as_of, group_by, live=False) -> dict:
    rows = selectors.collection_rates(s, window, as_of, group_by, live=live)
    return {
        r.key: (r.households_billed, r.households_clear, r.households_paid)
        for r in rows
        if r.households_billed
    }


def windows(ledger):
    m3, m2, m1, m0 = ledger["months"]
    return [
        Window(m3, month_end(m0)),  # every bill: x and w in both their buildings
        Window(m1, month_end(m0)),  # x only in B, w only in A
        Window(m3, month_end(m2)),  # x only in A, w only in C
        Window(m1, month_end(m1)),
    ]


def test_the_rule_by_hand(project, ledger):
    """The hand-computed answer for every bill of the ledger, as of today."""
    m3, _, _, m0 = ledger["months"]
    today, bd = ledger["today"], ledger["buildings"]
    a, b, c = bd["A"], bd["B"], bd["C"]
    every = Window(m3, month_end(m0))
    # A: x (paid), z (behind), w (clear, M0 not paid yet); B: x (behind), y; C: w.
    assert by_rule(ledger, every, today, "building") == {a: (3, 2, 1), b: (2, 1, 1), c: (1, 1, 1)}
    # wang (A and C): x, z, w once each, not 3 + 1; li (B): x, y.
    wang, li = ledger["wang"].pk, ledger["li"].pk
    assert by_rule(ledger, every, today, "steward") == {wang: (3, 2, 1), li: (2, 1, 1)}
    # The company: x is behind (its bill in B) although clear in A.
    assert by_rule(ledger, every, today, "company") == {None: (4, 2, 1)}


def assert_by_rule(project, ledger, as_of, more=()):
    """Live and summaries both give the rule's counts, every window, group and narrowed scope."""
    bd = ledger["buildings"]
    scopes = [
        (scope(project), None),
        (scope(project, building_ids=(bd["B"],)), {bd["B"]}),
        (scope(project, steward_id=ledger["wang"].pk), {bd["A"], bd["C"]}),
    ]
    for window in [*windows(ledger), *more]:
        for s, buildings in scopes:
            for group in ("company", "building", "steward"):
                expected = by_rule(ledger, window, as_of, group, buildings)
                live = counted(s, window, as_of, group, live=True)
                assert live == expected, ("live", window, as_of, group, buildings)
                fast = counted(s, window, as_of, group)
                assert fast == expected, ("summaries", window, as_of, group, buildings)
    for s, buildings in scopes:
        trend = selectors.rate_trend(s, 5, as_of)
        slow = [(m, r.figures()) for m, r in selectors.rate_trend(s, 5, as_of, live=True)]
        assert [(m, r.figures()) for m, r in trend] == slow, buildings
        for first, row in trend:
            window = Window(first, month_end(first))
            rule = by_rule(ledger, window, min(window.end, as_of), "company", buildings)
            n, clear, _ = rule.get(None, (0, 0, 0))
            assert (row.households_billed, row.households_clear) == (n, clear), (first, buildings)
    for group in ("building", "steward"):
        fast = [(r.key, r.counts) for r in selectors.aging(scope(project), as_of, group)]
        assert fast == [
            (r.key, r.counts) for r in selectors.aging(scope(project), as_of, group, live=True)
        ]


def test_households_per_building_and_steward_follow_the_bills_of_each(project, ledger):
    summary_refresh.refresh(full=True)
    today = ledger["today"]
    x = ledger["accounts"]["x"]
    # One span per building the account's bills name; the account is left to its spans.
    assert AccountSpan.objects.filter(account_id=x.pk).count() == 2
    assert x.pk in set(BilledIrregular.objects.values_list("account_id", flat=True))
    # Each owes in one building only (x in B, w in A): the OwedRange sums answer "behind" and "owing".
    assert RollupState.objects.get(name="debt").shared_accounts == 0
    assert RollupState.objects.get(name="owing").shared_accounts == 0
    assert_by_rule(project, ledger, today)  # AccountDebt and AccountOwing on their date
    m2 = ledger["months"][1]
    assert_by_rule(project, ledger, month_end(m2))  # another date: the open bills
    assert summary_check.check() == []
    assert summary_check.check_reports([project.pk], today) == []


def spans_of(acct) -> dict[int, tuple]:
    return {
        s.building_id: (s.first_period, s.last_period, s.monthly)
        for s in AccountSpan.objects.filter(account_id=acct.pk)
    }


def test_spans_are_kept_current_when_an_account_comes_to_be_billed_in_another_building(
    project, ledger
):
    summary_refresh.refresh(full=True)
    today, bd = ledger["today"], ledger["buildings"]
    m3, _, _, m0 = ledger["months"]
    y, z = ledger["accounts"]["y"], ledger["accounts"]["z"]
    assert spans_of(y) == {bd["B"]: (m3, m0, True)}
    # Imported now: y's property fee for five months back, naming z's room (A), unpaid — and for
    # seven months back in its own room (B: a month left out there now).
    item = Bill.objects.filter(account=y).first().fee_item
    m5, m7 = add_months(today, -5), add_months(today, -7)
    bill_on(y, item, z.room_id, m5)
    bill_on(y, item, y.room_id, m7)
    ledger["bills"] += [
        ("y", bd["A"], m5, m5 + datetime.timedelta(days=14), None),
        ("y", bd["B"], m7, m7 + datetime.timedelta(days=14), None),
    ]
    assert_by_rule(project, ledger, today)  # the report reads the new bills in first
    assert spans_of(y) == {bd["A"]: (m5, m5, True), bd["B"]: (m7, m0, False)}
    assert_by_rule(project, ledger, today, more=[Window(m7, month_end(m0)), Window(m5, m5)])
    assert summary_check.check() == []
    assert summary_check.check_reports([project.pk], today) == []


def test_an_own_building_bill_for_a_month_owed_elsewhere_makes_the_month_owed_in_two_buildings(
    project, ledger
):
    """Found by the property test: y owes six months back in A only (a bill naming z's room);
    then y's own room (B) is billed for the same month (parking). The bill touched is y's own one,
    yet y now owes that month in two buildings: MonthOwing's per-building counts no longer add up,
    and the trend must not sum them (it gave a building −1 households clear)."""
    today = ledger["today"]
    y, z = ledger["accounts"]["y"], ledger["accounts"]["z"]
    item = Bill.objects.filter(account=y).first().fee_item
    m6 = add_months(today, -6)
    bill_on(y, item, z.room_id, m6)
    summary_refresh.refresh(full=True)
    assert summary_check.check() == []
    bill_on(y, fee_item(project, code="TCF", name="停车费"), y.room_id, m6)
    summary_refresh.refresh(full=False, new_day=False)
    assert summary_check.check() == []
    trend = [(m, r.figures()) for m, r in selectors.rate_trend(scope(project), 8, today)]
    live = [(m, r.figures()) for m, r in selectors.rate_trend(scope(project), 8, today, live=True)]
    assert trend == live


def test_check_names_spans_filed_under_one_building_and_the_next_refresh_files_them_again(
    project, ledger
):
    """A database summarised before the spans were per building: x's and w's bills are in one span,
    under the lower of their two buildings, and the check shows it; the next refresh task (a new
    day) computes every span again, a report's catch-up leaves that to it."""
    summary_refresh.refresh(full=True)
    today, bd = ledger["today"], ledger["buildings"]
    m3, _, _, m0 = ledger["months"]
    x, w = ledger["accounts"]["x"], ledger["accounts"]["w"]
    for acct in (x, w):
        AccountSpan.objects.filter(account_id=acct.pk).exclude(building_id=bd["A"]).delete()
        AccountSpan.objects.filter(account_id=acct.pk).update(first_period=m3, last_period=m0)
    RollupState.objects.filter(name="span_buildings").delete()
    summary_refresh.refresh(full=False, new_day=False)
    assert spans_of(x) == {bd["A"]: (m3, m0, True)}
    item = Bill.objects.filter(account=x).first().fee_item_id
    diffs = summary_check.check()
    assert {(d.table, d.key) for d in diffs} >= {
        ("AccountSpan", (x.pk, item, bd["B"])),
        ("AccountSpan", (w.pk, item, bd["C"])),
    }
    assert any(
        d.table.startswith("收缴率") for d in summary_check.check_reports([project.pk], today)
    )
    summary_refresh.refresh()  # the refresh task
    assert spans_of(x) == {
        bd["A"]: (m3, ledger["months"][1], True),
        bd["B"]: (ledger["months"][2], m0, True),
    }
    assert RollupState.objects.filter(name="span_buildings").exists()
    assert summary_check.check() == []
    assert summary_check.check_reports([project.pk], today) == []
    assert_by_rule(project, ledger, today)
