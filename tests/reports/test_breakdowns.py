"""Grouping (project, building, steward, team, fee item), scoping, top debtors, arrears by class and
by refusal reason, promises kept, the staff leaderboard and the households behind a number."""

import datetime
from decimal import Decimal

import pytest

from tests.reports.builders import D, account, bill, fee_item, late_fee_bill, month, pay, scope
from wuye.core.roles import Role
from wuye.dunning.models import ArrearsCase, CollectionTeam, ContactRecord
from wuye.registry.models import Building
from wuye.reports import selectors

pytestmark = pytest.mark.django_db
JAN = month(2025, 1)
AS_OF = D(2025, 1, 31)


@pytest.fixture
def ledger(project, other_project, cashier, make_user):
    """Two buildings with two stewards in one project, two fee items, and a second project."""
    wyf, parking = fee_item(project), fee_item(project, code="CWF", name="车位费")
    a1, a2, b1 = (account(project, c) for c in ("1-1-101", "1-1-102", "2-1-101"))
    far = account(other_project, "9-1-101")
    wang = make_user("wang", Role.STEWARD, project)
    li = make_user("li", Role.STEWARD, project)
    Building.objects.filter(pk=a1.room.building_id).update(steward=wang)
    Building.objects.filter(pk=b1.room.building_id).update(steward=li)
    team = CollectionTeam.objects.create(project=project, name="一组", leader=li)
    team.members.add(wang)
    lone = CollectionTeam.objects.create(project=project, name="二组", leader=li)
    for acct in (a1, a2, b1):
        bill(acct, wyf, "100.00", D(2025, 1, 1))
    bill(a1, parking, "50.00", D(2025, 1, 1))
    bill(far, fee_item(other_project), "999.00", D(2025, 1, 1))
    pay(cashier, a1, "150.00", business_date=D(2025, 1, 10), include_late_fees=False)
    pay(cashier, b1, "40.00", business_date=D(2025, 1, 10), include_late_fees=False)
    return locals()


def by_key(rows):
    return {r.key: r for r in rows}


def test_grouping_by_project_building_steward_team_and_fee_item(project, ledger):
    s = scope(project)
    [company] = selectors.collection_rates(s, JAN, AS_OF, live=True)
    assert (company.current_billed, company.current_received) == (
        Decimal("350.00"),
        Decimal("190.00"),
    )
    buildings = by_key(selectors.collection_rates(s, JAN, AS_OF, "building", live=True))
    b1 = ledger["a1"].room.building_id
    b2 = ledger["b1"].room.building_id
    assert buildings[b1].current_billed == Decimal("250.00")
    assert buildings[b1].current_received == Decimal("150.00")
    assert buildings[b2].current_received == Decimal("40.00")
    stewards = by_key(selectors.collection_rates(s, JAN, AS_OF, "steward", live=True))
    assert stewards[ledger["wang"].pk].current_billed == Decimal("250.00")
    assert stewards[ledger["li"].pk].current_billed == Decimal("100.00")
    teams = by_key(selectors.collection_rates(s, JAN, AS_OF, "team", live=True))
    # 一组 has both stewards; 二组 only li: a steward in two teams counts in each.
    assert teams[ledger["team"].pk].current_billed == Decimal("350.00")
    assert teams[ledger["lone"].pk].current_billed == Decimal("100.00")
    items = by_key(selectors.collection_rates(s, JAN, AS_OF, "fee_item", live=True))
    assert items[ledger["parking"].pk].current_billed == Decimal("50.00")
    assert items[ledger["wyf"].pk].current_billed == Decimal("300.00")
    assert items[ledger["wyf"].pk].households_billed == 3
    projects = by_key(selectors.collection_rates(s, JAN, AS_OF, "project", live=True))
    assert list(projects) == [project.pk]


def test_a_project_outside_the_scope_never_counts(project, other_project, ledger):
    [row] = selectors.collection_rates(scope(project), JAN, AS_OF, live=True)
    assert row.current_billed == Decimal("350.00")
    [both] = selectors.collection_rates(scope(project, other_project), JAN, AS_OF, live=True)
    assert both.current_billed == Decimal("1349.00")
    [nothing] = selectors.collection_rates(scope(), JAN, AS_OF, live=True)
    assert nothing.current_billed == 0
    feb = D(2025, 2, 28)
    assert selectors.aging(scope(project), feb, live=True)[0].total == Decimal("160.00")
    debtors = selectors.top_debtors(scope(project), feb, live=True)
    assert ledger["far"].pk not in {d.account_id for d in debtors}


def test_scope_narrows_to_a_building_a_steward_a_team_or_a_fee_item(project, ledger):
    def billed(**kwargs):
        return selectors.collection_rates(scope(project, **kwargs), JAN, AS_OF, live=True)[
            0
        ].current_billed

    assert billed(building_ids=(ledger["b1"].room.building_id,)) == Decimal("100.00")
    assert billed(steward_id=ledger["wang"].pk) == Decimal("250.00")
    assert billed(team_id=ledger["lone"].pk) == Decimal("100.00")
    assert billed(fee_item_ids=(ledger["parking"].pk,)) == Decimal("50.00")


def test_top_debtors_order_by_overdue_principal_with_late_fees_apart(project, ledger):
    late_fee_bill(ledger["a2"].bills.get(), "3.00", D(2025, 2, 1))
    debtors = selectors.top_debtors(scope(project), D(2025, 2, 28), live=True)
    assert [(d.room_code, d.outstanding) for d in debtors] == [
        ("1-1-102", Decimal("100.00")),
        ("2-1-101", Decimal("60.00")),
    ]
    assert debtors[0].late_fee_outstanding == Decimal("3.00")
    assert debtors[0].oldest_due_date == D(2025, 1, 15)


OPENED = D(2025, 1, 20)


def _case(acct, cls, opened=OPENED):
    return ArrearsCase.objects.create(
        project_id=acct.project_id,
        account=acct,
        room_id=acct.room_id,
        opened_on=opened,
        stage_since=opened,
        case_class=cls,
    )


def _contact(case, by, at, **fields):
    return ContactRecord.objects.create(
        case=case,
        project_id=case.project_id,
        at=datetime.datetime.combine(at, datetime.time(10), tzinfo=datetime.UTC),
        by=by,
        channel="phone",
        reached=True,
        **fields,
    )


def test_arrears_by_class_and_by_latest_refusal_reason(project, ledger, steward):
    c2, c3 = _case(ledger["a2"], "E"), _case(ledger["b1"], "B")
    _contact(c2, steward, D(2025, 1, 21), refusal_reason="leak")
    _contact(c2, steward, D(2025, 1, 25), refusal_reason="lift")
    wrong = _contact(c3, steward, D(2025, 1, 22), refusal_reason="hardship")
    _contact(c3, steward, D(2025, 1, 23), refusal_reason="other", corrects=wrong)
    _contact(c3, steward, D(2025, 1, 24))
    as_of = D(2025, 2, 28)
    classes = {
        r.key: (r.cases, r.amount) for r in selectors.arrears_by_class(scope(project), as_of)
    }
    assert classes == {"E": (1, Decimal("100.00")), "B": (1, Decimal("60.00"))}
    reasons = {r.key: r.cases for r in selectors.arrears_by_reason(scope(project), as_of)}
    assert reasons == {"lift": 1, "other": 1}
    # On 24 January the latest reason on the E case was still the leak.
    early = {r.key for r in selectors.arrears_by_reason(scope(project), D(2025, 1, 24))}
    assert early == {"leak", "other"}
    # The dashboard asks for both at once: the same rows, from the summaries and live.
    for day in (as_of, D(2025, 1, 24)):
        for live in (False, True):
            by_class, by_reason = selectors.arrears_breakdowns(scope(project), day, live=live)
            assert by_class == selectors.arrears_by_class(scope(project), day, live=live)
            assert by_reason == selectors.arrears_by_reason(scope(project), day, live=live)


def test_a_case_closed_before_the_report_date_is_not_counted(project, ledger):
    case = _case(ledger["a2"], "A")
    ArrearsCase.objects.filter(pk=case.pk).update(state="closed", closed_on=D(2025, 2, 1))
    assert selectors.arrears_by_class(scope(project), D(2025, 2, 28)) == []
    assert [r.key for r in selectors.arrears_by_class(scope(project), D(2025, 1, 31))] == ["A"]


def test_promise_kept_when_payments_by_the_promise_date_cover_the_amount(
    project, ledger, steward, cashier
):
    case_a, case_b = _case(ledger["a2"], "A"), _case(ledger["b1"], "A")
    _contact(case_a, steward, D(2025, 1, 20), promise_date=D(2025, 1, 25), promise_amount="100")
    _contact(case_b, steward, D(2025, 1, 20), promise_date=D(2025, 1, 25), promise_amount="60")
    pay(cashier, ledger["a2"], "100.00", business_date=D(2025, 1, 25))
    pay(cashier, ledger["b1"], "30.00", business_date=D(2025, 1, 24))  # short of the promise
    [row] = selectors.promise_kept_by_steward(scope(project), JAN)
    assert (row.key, row.promises, row.kept, row.rate) == (steward.pk, 2, 1, Decimal("0.5000"))


def test_staff_leaderboard_adds_received_contacts_and_promises(project, ledger, steward):
    case = _case(ledger["a2"], "A")
    _contact(case, ledger["wang"], D(2025, 1, 21))
    rows = by_key(selectors.staff_leaderboard(scope(project), JAN, AS_OF))
    wang = rows[ledger["wang"].pk]
    assert wang.received == Decimal("150.00") and wang.contacts == 1
    assert wang.current_rate == Decimal("0.6000")
    assert rows[ledger["li"].pk].received == Decimal("40.00")


def test_accounts_behind_each_figure(project, ledger):
    s = scope(project)
    unpaid = selectors.accounts_behind(s, figure="current_unpaid", window=JAN, as_of=AS_OF)
    # 1-1-101 paid all its 150 (property fee and parking).
    assert {(r.room_code, r.amount) for r in unpaid} == {
        ("1-1-102", Decimal("100.00")),
        ("2-1-101", Decimal("60.00")),
    }
    # The figure's total is the sum of the households listed.
    [row] = selectors.collection_rates(s, JAN, AS_OF, live=True)
    assert sum(r.amount for r in unpaid) == row.current_billed - row.current_received
    not_clear = selectors.accounts_behind(s, figure="not_clear", window=JAN, as_of=AS_OF)
    assert len(not_clear) == row.households_billed - row.households_clear
    aged = selectors.accounts_behind(s, figure="aging", window=None, as_of=AS_OF, bucket=0)
    assert sum(r.amount for r in aged) == selectors.aging(s, AS_OF, live=True)[0].buckets[0]
    building = ledger["b1"].room.building_id
    one = selectors.accounts_behind(
        s, figure="aging", window=None, as_of=AS_OF, group_by="building", key=building
    )
    assert [r.room_code for r in one] == ["2-1-101"]
    team = selectors.accounts_behind(
        s, figure="aging", window=None, as_of=AS_OF, group_by="team", key=ledger["lone"].pk
    )
    assert [r.room_code for r in team] == ["2-1-101"]  # 二组: li's building only
    _case(ledger["a2"], "C")
    by_class = selectors.accounts_behind(s, figure="class", window=None, as_of=AS_OF, key="C")
    assert [r.room_code for r in by_class] == ["1-1-102"]
    top = selectors.accounts_behind(s, figure="top", window=None, as_of=AS_OF, limit=1)
    assert [r.room_code for r in top] == ["1-1-102"]


def test_reports_take_a_fixed_number_of_queries(project, ledger, django_assert_max_num_queries):
    s = scope(project)
    with django_assert_max_num_queries(2):
        selectors.collection_rates(s, JAN, AS_OF, "building", live=True)
    with django_assert_max_num_queries(2):
        selectors.aging(s, AS_OF, "steward", live=True)
    with django_assert_max_num_queries(3):
        selectors.top_debtors(s, AS_OF, live=True)
