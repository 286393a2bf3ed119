"""预交 at the fee window: the cashier adds months ahead to a household's payment; they are billed by
the same service and rule as an online prepayment, and paid with every open bill in one payment —
or nothing is billed and nothing paid."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.ledger import factories
from tests.ledger.factories import D
from wuye.billing import fee_settings, pay_ahead
from wuye.billing.models import Bill, BillAdjustment
from wuye.core.errors import ValidationFailed
from wuye.core.roles import Role
from wuye.ledger import invariants
from wuye.ledger.models import Allocation, Payment
from wuye.ledger.selectors.prepaid import prepaid_available
from wuye.ledger.selectors.window import unpaid_bills
from wuye.ledger.services.payments import payment_with_ahead

pytestmark = pytest.mark.django_db


@pytest.fixture
def six_open(acct, item):
    """Six monthly bills of 100.00 from January 2025, unpaid."""
    return factories.monthly_bills(acct, item, D(2025, 1, 1), 6, "100.00")


@pytest.fixture
def yearly_offer(item, manager):
    """100.00 a month; 预交一年九五折 (the project's cap is 12 months)."""
    return factories.yearly_offer(item, manager)


@pytest.fixture
def at_window(client, cashier):
    client.force_login(cashier)
    return client


def ahead_bills():
    return Bill.objects.filter(period_start__gte=timezone.localdate().replace(day=1))


def year(item) -> str:
    return f"{item.pk}:12"


def pay(client, acct, bills, amount, ahead, key="key-1", **extra):
    data = {
        "account": acct.pk,
        "bill": [b.pk for b in bills],
        "method": ["cash"],
        "amount": [amount],
        "reference": [""],
        "idempotency_key": key,
        "ahead": ahead,
        **extra,
    }
    return client.post(reverse("ledger:window_pay", args=[acct.room_id]), data)


def test_the_window_offers_pay_ahead_lengths_with_their_rule_within_the_cap(
    at_window, acct, item, six_open, yearly_offer
):
    page = at_window.get(reverse("ledger:window_room", args=[acct.room_id]))

    labels = {c.value: c.label for c in page.context["ahead_choices"]}
    assert labels[year(item)] == "物业服务费 预交 12 个月（预交一年九五折）"
    assert labels[f"{item.pk}:6"] == "物业服务费 预交 6 个月"
    assert f"{item.pk}:24" not in labels  # the project's cap is 12 months
    assert 'id="ahead"' in page.content.decode()


def test_the_quote_adds_the_months_ahead_after_their_discount(
    at_window, acct, item, six_open, yearly_offer
):
    answer = at_window.post(
        reverse("ledger:window_quote", args=[acct.room_id]),
        {"account": acct.pk, "bill": [b.pk for b in six_open], "ahead": year(item)},
    )

    quote = answer.context["quote"]
    assert (quote.ahead, quote.ahead_billed, quote.due) == (
        Decimal("1140.00"),
        Decimal("1200.00"),
        Decimal("1740.00"),
    )
    assert "优惠 60.00" in answer.content.decode()
    assert not ahead_bills().exists()  # a quote bills nothing


def test_paying_with_pay_ahead_bills_the_year_and_pays_it_with_every_open_bill(
    at_window, acct, item, six_open, yearly_offer
):
    answer = pay(at_window, acct, six_open, "1740.00", year(item))

    assert answer.status_code == 302, answer.content.decode()[:2000]
    payment = Payment.objects.get()
    assert payment.amount == Decimal("1740.00")
    assert unpaid_bills(acct) == []
    assert ahead_bills().count() == 12
    assert sum(a.amount for a in BillAdjustment.objects.all()) == Decimal("60.00")
    assert Allocation.objects.filter(payment=payment).count() == 18


def test_pay_ahead_with_an_open_bill_left_out_is_refused_and_nothing_is_billed(
    at_window, acct, item, six_open, yearly_offer
):
    answer = pay(at_window, acct, six_open[1:], "1640.00", year(item))

    assert answer.status_code == 400
    assert answer.context["errors"]["ahead"].startswith("预交以后月份前须先缴清全部欠费")
    assert not Payment.objects.exists() and not ahead_bills().exists()


def test_pay_ahead_short_of_everything_due_is_refused_and_nothing_is_billed(
    at_window, acct, item, six_open, yearly_offer
):
    answer = pay(at_window, acct, six_open, "1000.00", year(item))

    assert answer.status_code == 400
    assert "预交须与欠费一次付清" in answer.context["errors"]["lines"]
    assert not Payment.objects.exists() and not ahead_bills().exists()
    assert not BillAdjustment.objects.exists()


def test_a_pay_ahead_choice_the_window_did_not_offer_is_refused_by_name(
    at_window, acct, item, six_open, yearly_offer
):
    answer = pay(at_window, acct, six_open, "3000.00", f"{item.pk}:30")

    assert answer.status_code == 400
    assert "预交选项无效" in answer.context["errors"]["ahead"]
    assert not Payment.objects.exists() and not ahead_bills().exists()


def test_a_repeated_pay_ahead_form_pays_once_and_bills_the_year_once(
    at_window, acct, item, six_open, yearly_offer
):
    first = pay(at_window, acct, six_open, "1740.00", year(item))
    again = pay(at_window, acct, six_open, "1740.00", year(item))

    assert first.status_code == again.status_code == 302
    assert first["Location"] == again["Location"]
    assert Payment.objects.count() == 1 and ahead_bills().count() == 12


def test_a_backdated_payment_cannot_pay_ahead(at_window, acct, item, six_open, yearly_offer):
    yesterday = timezone.localdate() - datetime.timedelta(days=1)

    answer = pay(at_window, acct, six_open, "1740.00", year(item), business_date=yesterday)

    assert answer.status_code == 400
    assert "补录以前日期的收款不能同时办理预交" in answer.context["errors"]["ahead"]
    assert not Payment.objects.exists() and not ahead_bills().exists()


def test_more_than_due_with_pay_ahead_asks_first_and_keeps_the_rest_as_prepaid(
    at_window, acct, item, six_open, yearly_offer
):
    asked = pay(at_window, acct, six_open, "1800.00", year(item))
    assert asked.status_code == 200 and asked.context["confirm_surplus"] == Decimal("60.00")
    assert not ahead_bills().exists()

    paid = pay(at_window, acct, six_open, "1800.00", year(item), confirm_surplus="60.00")

    assert paid.status_code == 302
    assert unpaid_bills(acct) == [] and ahead_bills().count() == 12
    assert Payment.objects.get().amount == Decimal("1800.00")


def test_without_a_rule_the_window_still_prepays_at_the_full_price(at_window, acct, item, six_open):
    fee_settings.fee_standard_add(
        user=None, fee_item=item, unit_price="100.00", valid_from=D(2020, 1, 1)
    )

    answer = pay(at_window, acct, six_open, "1200.00", f"{item.pk}:6")

    assert answer.status_code == 302
    assert ahead_bills().count() == 6 and not BillAdjustment.objects.exists()


def test_each_length_offers_the_rule_the_service_will_apply(
    acct, item, six_open, yearly_offer, manager
):
    half = pay_ahead.pay_ahead_rule_add(
        user=None,
        fee_item=item,
        name="预交半年九八折",
        min_months=6,
        valid_from=D(2020, 1, 1),
        approved_by=manager,
        discount_rate="0.02",
    )
    on = timezone.localdate()

    choices = pay_ahead.window_ahead_choices(acct, on)

    assert {c.months: c.rule for c in choices} == {1: None, 3: None, 6: half, 12: yearly_offer}
    for c in choices:
        assert c.rule == pay_ahead.pay_ahead_rule_for(item, c.months, on)


# --- the same through the API ------------------------------------------------------------------


def test_the_api_lists_quotes_and_takes_a_payment_with_pay_ahead(
    client, cashier, acct, item, six_open, yearly_offer
):
    client.force_login(cashier)
    base = f"/api/ledger/accounts/{acct.pk}/pay-ahead"

    options = client.get(base).json()
    quote = client.get(f"{base}/quote", {"value": year(item)}).json()
    paid = client.post(
        "/api/ledger/payments",
        {
            "account_id": acct.pk,
            "lines": [{"method": "wechat", "amount": "1740.00"}],
            "pay_ahead": year(item),
            "pay_ahead_amount": quote["amount"],
            "idempotency_key": "api-ahead-1",
        },
        content_type="application/json",
    )

    assert {"value": year(item), "months": 12, "rule": "预交一年九五折"}.items() <= next(
        o for o in options if o["value"] == year(item)
    ).items()
    assert (Decimal(quote["amount"]), Decimal(quote["discount"])) == (
        Decimal("1140.00"),
        Decimal("60.00"),
    )
    assert paid.status_code == 201, paid.content
    assert unpaid_bills(acct) == [] and ahead_bills().count() == 12


def test_the_api_refuses_pay_ahead_at_a_changed_amount_and_bills_nothing(
    client, cashier, acct, item, six_open, yearly_offer
):
    client.force_login(cashier)

    answer = client.post(
        "/api/ledger/payments",
        {
            "account_id": acct.pk,
            "lines": [{"method": "cash", "amount": "1800.00"}],
            "pay_ahead": year(item),
            "pay_ahead_amount": "1100.00",
        },
        content_type="application/json",
    )

    assert answer.status_code == 400
    assert (
        answer.json()["field"] == "ahead"
        and "预交金额已变为 1140.00 元" in answer.json()["message"]
    )
    assert not Payment.objects.exists() and not ahead_bills().exists()


# --- whatever the cashier sends: all of it, or nothing -------------------------------------------


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    months=st.sampled_from([1, 3, 6, 12]),
    offset_fen=st.integers(min_value=-5_000, max_value=5_000),
    leave_out=st.booleans(),
)
def test_pay_ahead_is_paid_in_full_or_leaves_no_trace(
    cashier, acct, item, six_open, yearly_offer, months, offset_fen, leave_out
):
    on = timezone.localdate()
    with transaction.atomic():
        [choice] = [c for c in pay_ahead.window_ahead_choices(acct, on) if c.months == months]
        ahead = pay_ahead.pay_ahead_quote(
            account=acct, fee_item=item, months=months, on_date=on
        ).amount_due
        due = Decimal("600.00") + ahead
        amount = due + Decimal(offset_fen) / 100
        ids = [b.pk for b in six_open][1 if leave_out else 0 :]
        try:
            payment = payment_with_ahead(
                user=cashier,
                account=acct,
                ahead=choice,
                expected=ahead,
                lines=[("cash", str(amount), "")],
                bill_ids=ids,
            )
        except ValidationFailed:
            assert leave_out or amount < due
            assert not Payment.objects.exists() and not ahead_bills().exists()
            assert not BillAdjustment.objects.exists()
        else:
            assert not leave_out and amount >= due
            assert payment.amount == amount
            assert unpaid_bills(acct) == []
            assert ahead_bills().count() == months
            paid = Allocation.objects.filter(payment=payment).aggregate(s=Sum("amount"))["s"]
            assert paid == due and prepaid_available(acct, on) == amount - due
        assert invariants.check_all() == []
        transaction.set_rollback(True)


def test_someone_who_may_not_take_money_bills_nothing_ahead(
    make_user, project, acct, item, six_open, yearly_offer
):
    cleaner = make_user("baojie", Role.OTHER_STAFF, project)
    [choice] = [
        c for c in pay_ahead.window_ahead_choices(acct, timezone.localdate()) if c.months == 12
    ]

    with pytest.raises(ValidationFailed):
        payment_with_ahead(
            user=cleaner,
            account=acct,
            ahead=choice,
            expected=Decimal("1140.00"),
            lines=[("cash", "1740.00", "")],
            bill_ids=[b.pk for b in six_open],
        )

    assert not ahead_bills().exists() and not Payment.objects.exists()
