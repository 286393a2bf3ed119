"""The amount signal "everything owed plus a whole year ahead at the pay-ahead discount" (预交一年)."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.banking import factories as f
from tests.banking.test_matching import run
from tests.ledger import factories as lf
from wuye.core.roles import Role

D = f.D


def recent_month(n: int) -> datetime.date:
    """The first day of the month ``n`` months before this one."""
    day = timezone.localdate().replace(day=1)
    for _ in range(n):
        day = (day - datetime.timedelta(days=1)).replace(day=1)
    return day


@pytest.fixture
def owner(project, item):
    """张三 owes the last two months at 200.00 a month."""
    a = f.account(project, "5-1-803", owner="张三")
    f.bill(a, item, "200.00", recent_month(2))
    f.bill(a, item, "200.00", recent_month(1))
    return a


@pytest.fixture
def five_percent(item, make_user, project):
    manager = make_user("manager", Role.PROJECT_MANAGER, project)
    return lf.yearly_offer(item, manager, unit_price=None)


def test_owed_plus_a_year_ahead_at_the_discount_is_an_amount_signal(project, owner, five_percent):
    # 400.00 owed + 12 × (200.00 − 10.00)
    decision = run(project, "2680.00", name="张三")
    assert decision.auto and decision.parts == [(owner.pk, Decimal("2680.00"))]
    assert any("加预交一年 2280.00 元" in r and "优惠 5%" in r for r in decision.reasons)


def test_a_year_ahead_without_the_discount_is_not_the_signal_when_a_discount_applies(
    project, owner, five_percent
):
    decision = run(project, "2800.00", name="张三")
    assert not decision.auto
    assert not any("预交一年" in r for r in decision.reasons)


def test_without_a_pay_ahead_rule_a_full_year_ahead_is_the_signal(project, owner):
    decision = run(project, "2800.00", name="张三")
    assert any("预交一年 2400.00 元（无预交优惠）" in r for r in decision.reasons)


def test_a_household_owing_nothing_paying_a_year_ahead_is_recognised(
    project, item, finance, five_percent
):
    a = f.account(project, "6-1-1201", owner="王五")
    f.bill(a, item, "200.00", recent_month(1))
    f.pay(finance, a, "200.00")
    decision = run(project, "2280.00", name="王五", remark="6-1-1201")
    assert decision.auto
    assert any("该户预交一年 2280.00 元" in r for r in decision.reasons)


def test_the_year_ahead_amount_alone_never_auto_confirms_a_stranger(project, owner, five_percent):
    decision = run(project, "2680.00", name="某某贸易有限公司")
    assert not decision.auto
