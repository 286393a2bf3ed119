import datetime
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from wuye.ledger.selectors.late_fees import LateFeeTerms, late_fee

D = datetime.date
TERMS = LateFeeTerms(
    daily_rate=Decimal("0.003"),  # 0.3% a day: far above the lawful cap
    grace_days=0,
    start_date=D(2020, 1, 1),
    cap_multiplier=Decimal("1.5"),
    lpr_annual=Decimal("0.0365"),  # makes the capped daily rate exactly 0.00015
)


def test_no_late_fee_without_contract_terms():
    fee = late_fee(
        principal=Decimal("100"),
        due_date=D(2024, 1, 1),
        payments=[],
        as_of=D(2025, 1, 1),
        terms=None,
    )
    assert fee.capped == 0


def test_grace_period_accrues_nothing():
    terms = LateFeeTerms(**{**TERMS.__dict__, "grace_days": 30})
    fee = late_fee(
        principal=Decimal("1000"),
        due_date=D(2024, 1, 1),
        payments=[],
        as_of=D(2024, 1, 31),
        terms=terms,
    )
    assert fee.days == 0 and fee.capped == 0


def test_simple_interest_at_the_capped_rate():
    # 1000 unpaid for 10 days (Jan 2–11) at 0.00015 a day = 1.50; the contract's 0.3% would give 30.00
    fee = late_fee(
        principal=Decimal("1000"),
        due_date=D(2024, 1, 1),
        payments=[],
        as_of=D(2024, 1, 11),
        terms=TERMS,
    )
    assert fee.days == 10
    assert fee.capped == Decimal("1.50")
    assert fee.contract == Decimal("30.00")
    assert fee.contract_exceeds_cap


def test_partial_payment_lowers_the_base_from_the_next_day():
    # Paid on Jan 6, which still accrues: 1000 for Jan 2–6 (5 days), then 400 for Jan 7–11 (5 days):
    # (5000 + 2000) × 0.00015 = 1.05
    fee = late_fee(
        principal=Decimal("1000"),
        due_date=D(2024, 1, 1),
        payments=[(D(2024, 1, 6), Decimal("600"))],
        as_of=D(2024, 1, 11),
        terms=TERMS,
    )
    assert fee.days == 10 and fee.capped == Decimal("1.05")


def test_paid_in_full_stops_accrual_after_the_day_of_payment():
    # Paid on Jan 3: Jan 2 and Jan 3 accrue (the day of payment counts), nothing after.
    fee = late_fee(
        principal=Decimal("1000"),
        due_date=D(2024, 1, 1),
        payments=[(D(2024, 1, 3), Decimal("1000"))],
        as_of=D(2025, 1, 1),
        terms=TERMS,
    )
    assert fee.days == 2 and fee.capped == Decimal("0.30")


def test_as_of_date_before_a_payment_ignores_it():
    fee = late_fee(
        principal=Decimal("1000"),
        due_date=D(2024, 1, 1),
        payments=[(D(2024, 2, 1), Decimal("1000"))],
        as_of=D(2024, 1, 11),
        terms=TERMS,
    )
    assert fee.capped == Decimal("1.50")


def test_never_more_than_the_principal():
    terms = LateFeeTerms(
        **{**TERMS.__dict__, "daily_rate": Decimal("0.01"), "lpr_annual": Decimal("0.99")}
    )
    fee = late_fee(
        principal=Decimal("100"),
        due_date=D(2020, 6, 1),
        payments=[],
        as_of=D(2025, 1, 1),
        terms=terms,
    )
    assert fee.capped == Decimal("100.00")


def test_bills_due_before_the_rule_start_carry_none():
    fee = late_fee(
        principal=Decimal("100"),
        due_date=D(2019, 12, 31),
        payments=[],
        as_of=D(2025, 1, 1),
        terms=TERMS,
    )
    assert fee.capped == 0


def test_lower_contract_rate_is_used_when_below_the_cap():
    terms = LateFeeTerms(**{**TERMS.__dict__, "daily_rate": Decimal("0.0001")})
    fee = late_fee(
        principal=Decimal("1000"),
        due_date=D(2024, 1, 1),
        payments=[],
        as_of=D(2024, 1, 11),
        terms=terms,
    )
    assert fee.capped == fee.contract == Decimal("1.00")


@given(
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal("100000"), places=2),
    st.integers(min_value=0, max_value=4000),
)
def test_capped_fee_is_bounded_by_principal_and_contract(principal, days):
    fee = late_fee(
        principal=principal,
        due_date=D(2020, 1, 1),
        payments=[],
        as_of=D(2020, 1, 1) + datetime.timedelta(days=days),
        terms=TERMS,
    )
    assert 0 <= fee.capped <= principal
    assert fee.capped <= fee.contract or fee.capped == principal.quantize(Decimal("0.01"))


def test_paid_on_the_due_date_or_within_grace_accrues_nothing():
    terms = LateFeeTerms(**{**TERMS.__dict__, "grace_days": 5})
    for paid in (D(2024, 1, 1), D(2024, 1, 6)):
        fee = late_fee(
            principal=Decimal("1000"),
            due_date=D(2024, 1, 1),
            payments=[(paid, Decimal("1000"))],
            as_of=D(2025, 1, 1),
            terms=terms,
        )
        assert fee.days == 0 and fee.capped == 0
    # Paid on the first day after the grace period: that one day accrues.
    fee = late_fee(
        principal=Decimal("1000"),
        due_date=D(2024, 1, 1),
        payments=[(D(2024, 1, 7), Decimal("1000"))],
        as_of=D(2025, 1, 1),
        terms=terms,
    )
    assert fee.days == 1 and fee.capped == Decimal("0.15")


@given(
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal("100000"), places=2),
    st.integers(min_value=0, max_value=30),
    st.integers(min_value=-5, max_value=4000),
    st.integers(min_value=0, max_value=400),
)
def test_as_of_the_day_of_payment_equals_paid_that_day(principal, grace, paid_after, later):
    """The one day-count rule: the fee quoted as of day X (unpaid) is the fee charged for paying the
    whole bill on day X, and nothing accrues after it (issue 16 item 1)."""
    terms = LateFeeTerms(**{**TERMS.__dict__, "grace_days": grace})
    due = D(2020, 1, 1)
    day = due + datetime.timedelta(days=paid_after)
    quoted = late_fee(principal=principal, due_date=due, payments=[], as_of=day, terms=terms)
    charged = late_fee(
        principal=principal,
        due_date=due,
        payments=[(day, principal)],
        as_of=day + datetime.timedelta(days=later),
        terms=terms,
    )
    assert charged == quoted
    assert quoted.days == max(0, paid_after - grace)
