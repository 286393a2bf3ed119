from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wuye.core.money import allocate, money

amounts = st.decimals(min_value=Decimal("-1000000"), max_value=Decimal("1000000"), places=2)
weights = st.lists(
    st.decimals(min_value=Decimal("0"), max_value=Decimal("10000"), places=2),
    min_size=1,
    max_size=50,
)


def test_money_rounds_half_up_by_default():
    assert money("2.345") == Decimal("2.35")
    assert money("2.344") == Decimal("2.34")


def test_money_rounding_rules():
    assert money("2.345", "half_even") == Decimal("2.34")
    assert money("2.349", "down") == Decimal("2.34")
    assert money("2.341", "up") == Decimal("2.35")


def test_money_refuses_floats():
    with pytest.raises(TypeError):
        money(0.1)


def test_shared_meter_split_adds_up_exactly():
    assert allocate(Decimal("100.00"), [Decimal(1)] * 3) == [
        Decimal("33.34"),
        Decimal("33.33"),
        Decimal("33.33"),
    ]


@given(amounts, weights)
def test_shares_always_sum_to_the_total(total, ws):
    if sum(ws) == 0:
        return
    shares = allocate(total, ws)
    assert sum(shares) == total
    assert len(shares) == len(ws)


@given(amounts.filter(lambda a: a >= 0), weights)
def test_each_share_is_within_a_fen_of_its_exact_part(total, ws):
    if sum(ws) == 0:
        return
    for share, w in zip(allocate(total, ws), ws, strict=True):
        assert abs(share - total * w / sum(ws)) < Decimal("0.01")


@pytest.mark.parametrize(
    "value, words",
    [
        ("0", "零元整"),
        ("1234.50", "壹仟贰佰叁拾肆元伍角整"),
        ("100", "壹佰元整"),
        ("1005.07", "壹仟零伍元零柒分"),
        ("10000", "壹万元整"),
        ("100010", "壹拾万零壹拾元整"),
        ("0.35", "叁角伍分"),
        ("20300.4", "贰万零叁佰元肆角整"),
        ("1000000", "壹佰万元整"),
    ],
)
def test_amount_in_chinese_capitals(value, words):
    from wuye.core.money import amount_in_words

    assert amount_in_words(Decimal(value)) == words
