"""SPEC §3 charging methods, as the billing run plans them (``run_planning.plan_month``)."""

import datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.billing.conftest import fee_item, room
from wuye.billing import calc, fee_settings, readings, run_planning
from wuye.core.errors import ValidationFailed
from wuye.registry import services as registry

D = datetime.date
NOV = D(2026, 11, 1)


def bills_of(project, month, item=None):
    """room code → amount of the planned bills (of ``item`` when given), and the plan."""
    plan = run_planning.plan_month(project, month)
    codes = dict(project.rooms.values_list("id", "code"))
    chosen = [b for b in plan.bills if item is None or b.fee_item_id == item.pk]
    return {codes[b.room_id]: b.amount for b in chosen}, plan


# --- area × unit price × months ------------------------------------------------------------------


def test_area_fee_is_gross_area_times_price_per_month(project, property_fee):
    room(project, "1-1-101", area="100.00")
    amounts, _ = bills_of(project, NOV)
    assert amounts == {"1-1-101": Decimal("250.00")}


def test_area_fee_may_be_charged_on_inner_area(project):
    item = fee_item(project, "WYF", "area", "2.50", area_basis="inner")
    registry.room_create(
        user=None, project=project, code="1-1-101", gross_area=Decimal(100), inner_area=Decimal(80)
    )
    person = registry.person_create(user=None, project=project, name="张三")
    registry.occupancy_create(
        user=None,
        room=project.rooms.get(),
        person=person,
        role="owner",
        is_payer=True,
        start_date=D(2020, 1, 1),
    )
    amounts, _ = bills_of(project, NOV, item)
    assert amounts == {"1-1-101": Decimal("200.00")}


def test_quarterly_area_fee_bills_three_months_at_once(project):
    item = fee_item(project, "WYF", "area", "2.50", cycle="quarter")
    room(project, "1-1-101", area="100.00")
    amounts, plan = bills_of(project, D(2027, 1, 1), item)
    assert amounts == {"1-1-101": Decimal("750.00")}
    assert plan.bills[0].period_end == D(2027, 3, 31)


# --- fixed, parking ------------------------------------------------------------------------------


def test_fixed_fee_is_the_monthly_price_times_the_months_of_the_period(project):
    item = fee_item(project, "LJ", "fixed", "30", cycle="quarter")
    room(project, "1-1-101")
    amounts, plan = bills_of(project, D(2027, 4, 1), item)
    assert amounts == {"1-1-101": Decimal("90.00")}
    assert plan.bills[0].quantity is None


def test_parking_fee_is_per_space_per_month(project):
    item = fee_item(project, "CW", "parking", "150")
    r = room(project, "1-1-101")
    room(project, "1-1-102")  # no space: no parking bill
    for code in ("A-001", "A-002"):
        registry.parking_space_create(user=None, project=project, code=code, room=r)
    amounts, _ = bills_of(project, NOV, item)
    assert amounts == {"1-1-101": Decimal("300.00")}


# --- billing cycles and due dates ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("cycle", "billed_in", "not_billed_in"),
    [
        ("quarter", [1, 4, 7, 10], [2, 3, 5, 11, 12]),
        ("half_year", [1, 7], [2, 4, 6, 10]),
        ("year", [1], [2, 6, 7, 12]),
    ],
)
def test_longer_cycles_are_billed_in_the_month_their_calendar_period_starts(
    project, cycle, billed_in, not_billed_in
):
    item = fee_item(project, "X", "fixed", "10", cycle=cycle)
    room(project, "1-1-101")
    for month in billed_in:
        amounts, _ = bills_of(project, D(2027, month, 1), item)
        assert amounts == {
            "1-1-101": Decimal(10 * calc.cycle_months(cycle)).quantize(Decimal("0.01"))
        }
    for month in not_billed_in:
        amounts, _ = bills_of(project, D(2027, month, 1), item)
        assert amounts == {}


def test_due_date_is_due_days_after_the_period_starts(project):
    fee_item(project, "A", "fixed", "10", due_days=14)
    fee_item(project, "B", "fixed", "10", due_days=0)
    room(project, "1-1-101")
    plan = run_planning.plan_month(project, NOV)
    assert sorted(b.due_date for b in plan.bills) == [D(2026, 11, 1), D(2026, 11, 15)]


# --- metered -------------------------------------------------------------------------------------


@pytest.fixture
def water(project):
    return fee_item(project, "SF", "metered", "3.50", name="水费")


def test_metered_fee_is_usage_times_price(project, water):
    r = room(project, "1-1-101")
    readings.meter_reading_record(
        user=None, room=r, fee_item=water, period_start=NOV, previous="100", current="112.5"
    )
    amounts, _ = bills_of(project, NOV, water)
    assert amounts == {"1-1-101": Decimal("43.75")}


def test_previous_reading_defaults_to_last_periods_current(project, water):
    r = room(project, "1-1-101")
    readings.meter_reading_record(
        user=None, room=r, fee_item=water, period_start=D(2026, 10, 1), previous="0", current="90"
    )
    reading = readings.meter_reading_record(
        user=None, room=r, fee_item=water, period_start=NOV, current="100"
    )
    assert reading.previous == Decimal("90") and reading.usage == Decimal("10")


def test_first_reading_of_a_room_asks_for_the_starting_figure(project, water):
    r = room(project, "1-1-101")
    with pytest.raises(ValidationFailed) as err:
        readings.meter_reading_record(
            user=None, room=r, fee_item=water, period_start=NOV, current="5"
        )
    assert err.value.field == "previous"


def test_a_reading_lower_than_the_last_is_refused_naming_the_field(project, water):
    r = room(project, "1-1-101")
    with pytest.raises(ValidationFailed) as err:
        readings.meter_reading_record(
            user=None, room=r, fee_item=water, period_start=NOV, previous="100", current="90"
        )
    assert err.value.field == "current"
    assert "低于上期读数" in err.value.message and "换表" in err.value.message


def test_meter_replacement_usage_is_old_final_minus_previous_plus_current_minus_new_start(
    project, water
):
    r = room(project, "1-1-101")
    reading = readings.meter_reading_record(
        user=None,
        room=r,
        fee_item=water,
        period_start=NOV,
        previous="950",
        current="7",
        replaced=True,
        old_meter_final="980",
        new_meter_start="0",
    )
    assert reading.usage == Decimal("37")  # (980 − 950) + (7 − 0)
    amounts, plan = bills_of(project, NOV, water)
    assert amounts == {"1-1-101": Decimal("129.50")}
    assert "换表" in plan.bills[0].description


def test_replacement_needs_the_old_final_and_new_start(project, water):
    r = room(project, "1-1-101")
    with pytest.raises(ValidationFailed) as err:
        readings.meter_reading_record(
            user=None,
            room=r,
            fee_item=water,
            period_start=NOV,
            previous="950",
            current="7",
            replaced=True,
        )
    assert err.value.field == "old_meter_final"


def test_a_room_without_reading_is_an_exception_and_gets_no_water_bill(project, water):
    room(project, "1-1-101")
    amounts, plan = bills_of(project, NOV, water)
    assert amounts == {}
    assert plan.exception_counts["no_reading"] == 1


def test_readings_of_a_batch_are_saved_all_or_nothing(project, water):
    a, b = room(project, "1-1-101"), room(project, "1-1-102", owner="李四")
    entries = [
        readings.ReadingEntry(room=a, previous="10", current="20"),
        readings.ReadingEntry(room=b, previous="10", current="5"),
    ]
    with pytest.raises(readings.BatchFailed) as err:
        readings.meter_readings_record_many(
            user=None, fee_item=water, period_start=NOV, entries=entries
        )
    assert list(err.value.errors) == [b.pk]
    assert not water.readings.exists()


# --- shared common meter (公摊) ------------------------------------------------------------------


def test_shared_charge_is_split_by_area_and_adds_up_exactly(project):
    item = fee_item(project, "GT", "shared", name="公摊电费")
    for n, area in enumerate(["33.33", "33.33", "33.34"], start=1):
        room(project, f"1-1-10{n}", area=area, owner=f"业主{n}")
    readings.shared_charge_record(user=None, fee_item=item, period_start=NOV, total="100.00")
    amounts, _ = bills_of(project, NOV, item)
    assert sum(amounts.values()) == Decimal("100.00")
    assert sorted(amounts.values()) == [Decimal("33.33"), Decimal("33.33"), Decimal("33.34")]


def test_shared_charge_of_a_building_is_split_over_that_building_only(project):
    item = fee_item(project, "GT", "shared")
    room(project, "1-1-101", owner="甲")
    room(project, "2-1-101", owner="乙")
    building = project.buildings.get(code="1")
    readings.shared_charge_record(
        user=None, fee_item=item, period_start=NOV, total="10.00", building=building
    )
    amounts, _ = bills_of(project, NOV, item)
    assert amounts == {"1-1-101": Decimal("10.00")}


def test_shared_item_without_a_registered_total_is_an_exception(project):
    fee_item(project, "GT", "shared")
    room(project, "1-1-101")
    _, plan = bills_of(project, NOV)
    assert plan.exception_counts["no_shared_charge"] == 1 and not plan.bills


@given(
    total=st.decimals(min_value=0, max_value=1_000_000, places=2),
    areas=st.lists(
        st.decimals(min_value="0.01", max_value=5000, places=2), min_size=1, max_size=60
    ),
)
def test_shared_split_shares_always_add_up_to_the_total(total, areas):
    shares = calc.shared_split(total, areas)
    assert sum(shares) == total
    assert all(s >= 0 and s == s.quantize(Decimal("0.01")) for s in shares)
    exact = [total * a / sum(areas) for a in areas]
    assert all(abs(s - e) < Decimal("0.01") for s, e in zip(shares, exact, strict=True))


# --- price changes, proration, leap years --------------------------------------------------------


def test_a_price_change_inside_the_month_charges_each_price_for_its_days(project):
    item = fee_item(project, "WYF", "area", "2.00")
    fee_settings.fee_standard_add(
        user=None, fee_item=item, unit_price="3.00", valid_from=D(2026, 11, 16), close_previous=True
    )
    room(project, "1-1-101", area="100.00")
    amounts, plan = bills_of(project, NOV, item)
    # 100 × (2.00 × 15/30 + 3.00 × 15/30)
    assert amounts == {"1-1-101": Decimal("250.00")}
    assert "调价" in plan.bills[0].description


def test_a_price_change_inside_a_quarter_splits_the_quarter(project):
    item = fee_item(project, "WYF", "area", "2.00", cycle="quarter")
    fee_settings.fee_standard_add(
        user=None, fee_item=item, unit_price="2.60", valid_from=D(2027, 2, 1), close_previous=True
    )
    room(project, "1-1-101", area="100.00")
    amounts, _ = bills_of(project, D(2027, 1, 1), item)
    assert amounts == {"1-1-101": Decimal("720.00")}  # 100 × (2.00 + 2.60 + 2.60)


def test_handover_in_the_middle_of_a_month_prorates_from_the_handover_date(
    project, property_fee, developer
):
    room(project, "1-1-101", area="100.00", handover_date=D(2026, 11, 16))
    plan = run_planning.plan_month(project, NOV)
    by_payer = {b.payer_id == developer.pk: b for b in plan.bills}
    assert by_payer[False].amount == Decimal("125.00")  # Nov 16–30: 15/30 of 250
    assert by_payer[True].amount == Decimal("125.00")  # Nov 1–15, the developer's days
    assert by_payer[True].period_end == D(2026, 11, 15)


def test_leap_year_february_counts_29_days(project, property_fee, developer):
    room(project, "1-1-101", area="100.00", handover_date=D(2028, 2, 15))
    plan = run_planning.plan_month(project, D(2028, 2, 1))
    owner_bill = next(b for b in plan.bills if b.payer_id != developer.pk)
    assert owner_bill.amount == Decimal("129.31")  # 250 × 15/29 = 129.3103…
    assert calc.month_fraction(D(2028, 2, 1), D(2028, 2, 29)) == 1
    assert calc.month_fraction(D(2027, 2, 15), D(2027, 2, 28)) == calc.Fraction(14, 28)


def test_without_proration_the_state_on_the_first_day_decides_the_month(project, developer):
    item = fee_item(project, "WYF", "area", "2.50", prorate_from_handover=False)
    room(project, "1-1-101", handover_date=D(2026, 11, 16))
    plan = run_planning.plan_month(project, NOV)
    assert [(b.payer_id, b.amount) for b in plan.bills if b.fee_item_id == item.pk] == [
        (developer.pk, Decimal("250.00"))
    ]


# --- rooms that cannot be billed -----------------------------------------------------------------


@pytest.mark.parametrize("area", [None, "0"])
def test_a_room_without_area_is_an_exception_and_gets_no_bill(project, property_fee, area):
    room(project, "1-1-101", area=area)
    room(project, "1-1-102", owner="李四")
    amounts, plan = bills_of(project, NOV)
    assert list(amounts) == ["1-1-102"]
    assert plan.exception_counts["no_area"] == 1
    assert plan.exceptions[0]["room"] == "1-1-101"


def test_a_room_with_no_owner_or_payer_is_an_exception(project, property_fee):
    room(project, "1-1-101", owner=None)
    _, plan = bills_of(project, NOV)
    assert plan.exception_counts["no_payer"] == 1 and not plan.bills


def test_days_without_a_standard_are_an_exception(project):
    fee_item(project, "WYF", "area", "2.50", valid_from=D(2027, 1, 1))
    room(project, "1-1-101")
    _, plan = bills_of(project, NOV)
    assert plan.exception_counts["no_standard"] == 1 and not plan.bills


# --- vacancy and not-handed-over policies --------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "rate", "expected"),
    [("full", "1", "250.00"), ("reduced", "0.7", "175.00"), ("exempt", "1", None)],
)
def test_vacant_room_policy(project, policy, rate, expected):
    item = fee_item(project, "WYF", "area", "2.50", vacancy_policy=policy, vacancy_rate=rate)
    room(project, "1-1-101", occupancy_state="vacant")
    amounts, plan = bills_of(project, NOV, item)
    assert amounts.get("1-1-101") == (Decimal(expected) if expected else None)
    if expected is None:
        assert plan.skipped["exempt"] == 1


@pytest.mark.parametrize(
    ("policy", "rate", "expected"),
    [("developer", "1", "250.00"), ("developer_reduced", "0.5", "125.00"), ("exempt", "1", None)],
)
def test_not_handed_over_room_is_billed_to_the_developer_by_policy(
    project, developer, policy, rate, expected
):
    item = fee_item(
        project, "WYF", "area", "2.50", not_handed_over_policy=policy, not_handed_over_rate=rate
    )
    room(project, "1-1-101", owner=None, handed_over=False)
    plan = run_planning.plan_month(project, NOV)
    bills = [b for b in plan.bills if b.fee_item_id == item.pk]
    if expected is None:
        assert bills == []
    else:
        assert [(b.payer_id, b.amount) for b in bills] == [(developer.pk, Decimal(expected))]


def test_not_handed_over_room_without_a_registered_developer_is_an_exception(project, property_fee):
    room(project, "1-1-101", owner=None, handed_over=False)
    _, plan = bills_of(project, NOV)
    assert plan.exception_counts["no_developer"] == 1


# --- rounding ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rounding", "expected"),
    [("half_up", "2.53"), ("half_even", "2.52"), ("down", "2.52"), ("up", "2.53")],
)
def test_each_fee_item_rounds_once_to_the_fen_with_its_own_rule(project, rounding, expected):
    item = fee_item(project, "WYF", "area", "2.50", rounding=rounding)
    room(project, "1-1-101", area="1.01")  # 1.01 × 2.50 = 2.525
    amounts, _ = bills_of(project, NOV, item)
    assert amounts == {"1-1-101": Decimal(expected)}


def test_rounding_defaults_to_half_up(project):
    item = fee_item(project, "WYF", "area", "2.50")
    assert item.rounding == "half_up"


# --- bad input -----------------------------------------------------------------------------------


def test_a_negative_price_is_refused(project):
    item = fee_item(project, "WYF", "area")
    with pytest.raises(ValidationFailed) as err:
        fee_settings.fee_standard_add(user=None, fee_item=item, unit_price="-1", valid_from=NOV)
    assert err.value.field == "unit_price" and "负" in err.value.message


def test_a_standard_ending_before_it_starts_is_refused(project):
    item = fee_item(project, "WYF", "area")
    with pytest.raises(ValidationFailed) as err:
        fee_settings.fee_standard_add(
            user=None, fee_item=item, unit_price="1", valid_from=NOV, valid_to=D(2026, 10, 1)
        )
    assert err.value.field == "valid_to"


def test_overlapping_standards_are_refused(project, property_fee):
    with pytest.raises(ValidationFailed) as err:
        fee_settings.fee_standard_add(
            user=None, fee_item=property_fee, unit_price="3", valid_from=NOV
        )
    assert err.value.field == "valid_from" and "重叠" in err.value.message


def test_a_reading_period_must_start_the_items_cycle(project):
    item = fee_item(project, "SF", "metered", "3", cycle="quarter")
    r = room(project, "1-1-101")
    with pytest.raises(ValidationFailed) as err:
        readings.meter_reading_record(
            user=None, room=r, fee_item=item, period_start=NOV, previous="0", current="1"
        )
    assert err.value.field == "period_start"


def test_planning_a_month_reads_rooms_handed_over_mid_month_in_one_query_not_one_each(
    project, property_fee, developer, django_assert_num_queries
):
    """Issue 16 item 5: each room whose payer starts inside the month was one query of its own
    (several seconds of a 100,000-room run); the payers of every such room come from one query."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            plan = run_planning.plan_month(project, NOV)
        assert plan.exception_counts.get("no_payer", 0) == 0
        return len(ctx)

    room(project, "1-1-101", area="100.00", handover_date=D(2026, 11, 16))
    few = queries()
    for n in range(2, 8):
        room(project, f"1-1-10{n}", area="100.00", handover_date=D(2026, 11, 10 + n))
    assert queries() == few
    plan = run_planning.plan_month(project, NOV)
    owners = [b for b in plan.bills if b.payer_id != developer.pk]
    assert len(owners) == 7 and all(b.amount < Decimal("250.00") for b in owners)
