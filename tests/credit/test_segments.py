"""Segment rules: stored as data, evaluated in priority order, first match wins, editable."""

import datetime

import pytest

from tests.credit.factories import DAY, file_of, pay, recompute
from tests.ledger.factories import account, bill
from wuye.core.errors import ValidationFailed
from wuye.credit.models import Segment
from wuye.credit.segments import NO_HISTORY
from wuye.credit.services import segment_update

ON = datetime.date(2026, 3, 20)


def _history(acct, item, cashier, *, on_time: int, late: int, unpaid: int):
    """Monthly bills ending in February 2026 (each due the 15th): ``on_time`` paid by the due date,
    then ``late`` paid 20 days after it, then ``unpaid`` left open."""
    months = on_time + late + unpaid
    bills = []
    for n in range(months):
        index = 2026 * 12 + 2 - (months - n)  # February 2026 is the last
        start = datetime.date(index // 12, index % 12 + 1, 1)
        bills.append(bill(acct, item, "100.00", start, start + 14 * DAY))
    for b in bills[:on_time]:
        pay(cashier, acct, "100.00", bill_ids=[b.pk], business_date=b.due_date)
    for b in bills[on_time : on_time + late]:
        pay(cashier, acct, "100.00", bill_ids=[b.pk], business_date=b.due_date + 20 * DAY)
    return bills


def _code(acct) -> str | None:
    f = file_of(acct)
    return f.segment.code if f.segment else None


def test_the_five_default_segments_are_seeded_on_first_use(project, acct, today):
    recompute(project, today)
    codes = list(Segment.objects.filter(project=project).values_list("code", flat=True))
    assert codes == ["dispute", "unreachable", "chronic", "on_time", "occasional"]


def test_default_segments_sort_households_by_their_history(project, item, cashier):
    reliable = account(project, "1-1-101")
    sometimes = account(project, "1-1-102")
    chronic = account(project, "1-1-103")
    newcomer = account(project, "1-1-104")
    _history(reliable, item, cashier, on_time=11, late=0, unpaid=1)
    _history(sometimes, item, cashier, on_time=8, late=2, unpaid=0)
    _history(chronic, item, cashier, on_time=2, late=3, unpaid=2)
    recompute(project, ON)
    assert _code(reliable) == "on_time"
    assert _code(sometimes) == "occasional"
    assert _code(chronic) == "chronic"
    assert _code(newcomer) is None
    assert file_of(newcomer).segment_reason == NO_HISTORY
    assert "近12个月逾期 ≥ 4 个月" in file_of(chronic).segment_reason


def test_first_match_in_priority_order_wins(project, item, cashier, supervisor):
    acct = account(project, "1-1-101")
    _history(acct, item, cashier, on_time=2, late=3, unpaid=2)  # chronic …
    recompute(project, ON)
    assert _code(acct) == "chronic"
    occasional = Segment.objects.get(project=project, code="occasional")
    segment_update(
        user=supervisor, segment=occasional, priority=5
    )  # … unless a catch-all comes first
    assert _code(acct) == "occasional"


def test_editing_a_rule_re_segments_the_households_at_once(project, item, cashier, supervisor):
    acct = account(project, "1-1-101")
    _history(acct, item, cashier, on_time=9, late=2, unpaid=1)  # 3 of the last 12 months late
    recompute(project, ON)
    assert _code(acct) == "occasional"
    chronic = Segment.objects.get(project=project, code="chronic")
    segment_update(user=supervisor, segment=chronic, min_arrears_months_12=3)
    assert _code(acct) == "chronic"


def test_an_inactive_segment_is_skipped(project, item, cashier, supervisor):
    acct = account(project, "1-1-101")
    _history(acct, item, cashier, on_time=2, late=3, unpaid=2)
    recompute(project, ON)
    chronic = Segment.objects.get(project=project, code="chronic")
    segment_update(user=supervisor, segment=chronic, is_active=False)
    assert _code(acct) == "occasional"


def test_a_steward_cannot_edit_segments(project, steward, acct, today):
    recompute(project, today)
    chronic = Segment.objects.get(project=project, code="chronic")
    with pytest.raises(ValidationFailed, match="客服主管、项目经理"):
        segment_update(user=steward, segment=chronic, min_arrears_months_12=2)


def test_a_strategy_cannot_send_a_household_to_the_door_before_the_first_call_deadline(
    project, supervisor, acct, today
):
    recompute(project, today)
    chronic = Segment.objects.get(project=project, code="chronic")
    with pytest.raises(ValidationFailed, match="不能少于 22 天") as exc:
        segment_update(user=supervisor, segment=chronic, escalate_after_days=10)
    assert exc.value.field == "escalate_after_days"
    chronic.refresh_from_db()
    assert chronic.escalate_after_days == 45  # nothing half-written


def test_a_lower_bound_above_the_upper_bound_is_refused_naming_the_field(
    project, supervisor, acct, today
):
    recompute(project, today)
    seg = Segment.objects.get(project=project, code="on_time")
    with pytest.raises(ValidationFailed) as exc:
        segment_update(user=supervisor, segment=seg, max_on_time_ratio="0.5")
    assert exc.value.field == "max_on_time_ratio"


def _paid_late(acct, item, cashier, *, months: int, days_late: int):
    """``months`` monthly bills ending in February 2026, each paid ``days_late`` after its due date."""
    for n in range(months):
        index = 2026 * 12 + 2 - (months - n)
        start = datetime.date(index // 12, index % 12 + 1, 1)
        b = bill(acct, item, "100.00", start, start + 14 * DAY)
        pay(cashier, acct, "100.00", bill_ids=[b.pk], business_date=b.due_date + days_late * DAY)


def test_a_few_days_late_every_month_is_not_long_term_arrears(project, item, cashier):
    """Six months each paid 5 days late: 近12个月逾期 6 个月, but the longest delay shown is 5 days, so
    the household is not labelled 长期拖欠; 40 days late on the same months is."""
    short = account(project, "1-1-201")
    long = account(project, "1-1-202")
    _paid_late(short, item, cashier, months=6, days_late=5)
    _paid_late(long, item, cashier, months=6, days_late=40)
    recompute(project, ON)
    assert file_of(short).arrears_months_12 >= 4 and file_of(short).worst_days_late == 5
    assert _code(short) != "chronic"
    assert _code(long) == "chronic"
    assert "最长逾期 ≥ 30 天" in file_of(long).segment_reason


def test_every_household_labelled_chronic_shows_a_long_delay(project, item, cashier):
    for n, (late, days) in enumerate([(4, 3), (4, 29), (4, 30), (5, 90), (2, 60)]):
        _paid_late(account(project, f"1-2-{n + 1:03d}"), item, cashier, months=late, days_late=days)
    recompute(project, ON)
    chronic = Segment.objects.get(project=project, code="chronic")
    labelled = list(chronic.files.all()) if hasattr(chronic, "files") else None
    from wuye.credit.models import CreditFile

    labelled = list(CreditFile.objects.filter(segment=chronic))
    assert {f.room.code for f in labelled} == {"1-2-003", "1-2-004"}
    assert all(f.worst_days_late >= 30 for f in labelled)
