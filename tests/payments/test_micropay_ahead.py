"""付款码 with 预交 at the fee window: the cashier's choice in ``#ahead`` (one fee item × months, one of
``window_ahead_choices``) rides on the payment-code order; it is priced exactly as the window's cash
path prices it, billed only when the platform says paid, posted once, and a changed figure goes to
预存款 with finance told (docs/decisions/0012, amendment “付款码 with 预交”)."""

import datetime
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from tests.ledger import factories
from tests.payments.helpers import AHEAD_EXAMPLES, AHEAD_OFFERS, ahead_offer, post_wechat
from wuye.billing import fee_settings, pay_ahead
from wuye.billing.models import Bill
from wuye.core.errors import NotInScope, ValidationFailed
from wuye.core.money import ZERO
from wuye.core.roles import Role
from wuye.ledger import invariants
from wuye.ledger.models import Payment
from wuye.ledger.selectors.prepaid import prepaid_balance
from wuye.ledger.selectors.window import unpaid_bills
from wuye.ledger.window_forms import ahead_quote, quote
from wuye.payments import services
from wuye.payments.enums import IssueKind, OrderStatus, Scene
from wuye.payments.models import OrderIssue, PaymentOrder

D = datetime.date
WECHAT_CODE = "134567890123456789"
ALIPAY_CODE = "287654321098765432"
CONFIRMING = "134567890123450000"  # the fake answers USERPAYING: the payer still confirming


@pytest.fixture
def offer(item, manager):
    """100.00 a month; 预交一年九五折 on the household's 物业服务费."""
    return factories.yearly_offer(item, manager)


def ahead_bills():
    return Bill.objects.filter(period_start__gte=timezone.localdate().replace(day=1))


def year(item, months=12) -> str:
    return f"{item.pk}:{months}"


def open_ids(account):
    return [b.pk for b in unpaid_bills(account)]


def take(cashier, account, choice, code=WECHAT_CODE, bill_ids=None, **kw):
    return services.micropay_take(
        user=cashier,
        account=account,
        bill_ids=open_ids(account) if bill_ids is None else bill_ids,
        auth_code=code,
        pay_ahead=choice,
        **kw,
    )


def item_order(account, item, months, cashier):
    """A payment-code order (no platform call yet) for every open bill and ``item`` × ``months``."""
    return services.order_create(
        created_by=cashier,
        account=account,
        bill_ids=open_ids(account),
        channel="wechat",
        scene=Scene.MICROPAY,
        pay_ahead_months=months,
        pay_ahead_fee_item=item,
    )


def window_due(account, choice):
    """What the window's cash path shows for the same choice: 应收合计 with every open bill."""
    today = timezone.localdate()
    bills = unpaid_bills(account, today)
    priced = ahead_quote(account, choice, today)
    return priced, quote(bills, [b.pk for b in bills], [], None, priced)


def nothing_written():
    return (
        not PaymentOrder.objects.exists()
        and not ahead_bills().exists()
        and not Payment.objects.exists()
    )


# --- the quote ---------------------------------------------------------------------------------


def test_order_is_the_cash_paths_quote_for_the_same_choice(
    payments_fake, household, item, offer, cashier
):
    order = take(cashier, household, year(item), code=CONFIRMING)
    priced, figures = window_due(household, year(item))
    assert order.status == OrderStatus.OPEN
    assert (order.pay_ahead_fee_item, order.pay_ahead_months) == (item, 12)
    assert order.pay_ahead_amount == priced.result.amount_due == Decimal("1140.00")
    assert order.amount == figures.due == Decimal("1440.00")
    assert order.scene == Scene.MICROPAY
    assert not ahead_bills().exists()  # billed only when the platform says paid


@AHEAD_EXAMPLES
@given(pick=st.integers(min_value=0, max_value=50), **AHEAD_OFFERS)
def test_any_offered_choice_is_priced_as_the_cash_path(
    payments_fake, household, item, manager, cashier, pick, min_months, rate, free, price
):
    with transaction.atomic():
        ahead_offer(item, manager, min_months=min_months, rate=rate, free=free, price=price)
        choices = pay_ahead.window_ahead_choices(household, timezone.localdate())
        choice = choices[pick % len(choices)]
        priced, figures = window_due(household, choice.value)
        order = item_order(household, choice.fee_item, choice.months, cashier)
        assert order.pay_ahead_amount == priced.result.amount_due
        assert order.amount == figures.due
        transaction.set_rollback(True)


# --- settlement --------------------------------------------------------------------------------


def test_paid_code_bills_the_chosen_items_months_and_pays_everything(
    payments_fake, household, item, offer, cashier, project, manager
):
    parking = factories.fee_item(project, code="TCF", name="停车费", late_fee_applies=False)
    factories.monthly_bills(household, parking, D(timezone.localdate().year - 1, 1, 1), 1, "50.00")
    factories.yearly_offer(parking, manager, unit_price="50.00")

    order = take(cashier, household, year(item))

    assert order.status == OrderStatus.PAID
    assert order.amount == Decimal("1490.00")  # 300 + 50 open, 1140 for the year of 物业服务费
    payment = order.payment
    assert payment.amount == Decimal("1490.00")
    assert payment.lines.get().reference == order.transaction_id
    made = ahead_bills()
    assert made.count() == 12
    assert set(made.values_list("fee_item_id", flat=True)) == {item.pk}  # not the 停车费
    assert unpaid_bills(household) == []
    assert prepaid_balance(household) == ZERO
    assert order.issues.count() == 0
    assert invariants.check_all() == []


def test_only_the_months_ahead_with_no_open_bills(payments_fake, household, item, offer, cashier):
    factories.pay(cashier, household, "300.00", bill_ids=open_ids(household))
    order = take(cashier, household, year(item), code=ALIPAY_CODE, bill_ids=[])
    assert (order.channel, order.status, order.amount) == ("alipay", "paid", Decimal("1140.00"))
    assert ahead_bills().count() == 12
    assert unpaid_bills(household) == []


def test_a_changed_figure_goes_to_prepaid_and_finance_are_told(
    payments_fake, household, item, offer, cashier
):
    order = take(cashier, household, year(item), code=CONFIRMING)
    offer.valid_to = timezone.localdate() - datetime.timedelta(days=1)  # rule withdrawn meanwhile
    offer.save()
    payments_fake.wechat.pay(order.out_trade_no)
    order = services.order_refresh(order)
    assert order.status == OrderStatus.PAID
    assert order.payment.amount == Decimal("1440.00")
    assert not ahead_bills().exists()
    assert unpaid_bills(household) == []
    assert prepaid_balance(household) == Decimal("1140.00")
    issue = OrderIssue.objects.get(order=order, kind=IssueKind.AHEAD_CHANGED)
    assert "预存款" in issue.message
    assert invariants.check_all() == []


# --- exactly once ------------------------------------------------------------------------------


def test_repeated_refresh_and_settle_post_once_and_bill_once(
    client, payments_fake, household, item, offer, cashier
):
    order = take(cashier, household, year(item), code=CONFIRMING)
    client.force_login(cashier)
    page = client.get(f"/payments/orders/{order.pk}/").content.decode()
    assert "预交物业服务费 12 个月 1140.00 元，支付成功后出账" in page
    payments_fake.wechat.pay(order.out_trade_no)
    for _ in range(3):
        order = services.order_refresh(order)
    services.order_settle(order.pk, transaction_id=order.transaction_id, amount=order.amount)
    headers, body = payments_fake.wechat.pay_notification(order.out_trade_no)
    assert post_wechat(headers, body).status_code == 204  # the late callback too
    assert Payment.objects.count() == 1
    assert ahead_bills().count() == 12
    assert prepaid_balance(household) == ZERO
    assert invariants.check_all() == []


@pytest.mark.parametrize("state", ["CLOSED", "PAYERROR"])
def test_a_cancelled_or_failed_trade_bills_nothing(
    payments_fake, household, item, offer, cashier, state
):
    order = take(cashier, household, year(item), code=CONFIRMING)
    payments_fake.wechat.trades[order.out_trade_no]["state"] = state
    order = services.order_refresh(order)
    assert order.status in (OrderStatus.CLOSED, OrderStatus.FAILED)
    assert not ahead_bills().exists()
    assert not Payment.objects.exists()
    assert len(unpaid_bills(household)) == 3


# --- refused: nothing written --------------------------------------------------------------------


def test_a_choice_the_window_does_not_offer_is_refused(
    payments_fake, household, item, offer, cashier
):
    with pytest.raises(ValidationFailed) as err:
        take(cashier, household, year(item, 5))  # 5 months: not a window length
    assert err.value.field == "ahead"
    with pytest.raises(ValidationFailed) as err:
        item_order(household, item, 5, cashier)  # the order itself refuses it too
    assert err.value.code == "payments.ahead_not_offered"
    assert nothing_written()


def test_beyond_the_cap_is_refused(payments_fake, household, item, offer, cashier, project):
    fee_settings.billing_settings_update(user=None, project=project, max_prepay_months=6)
    with pytest.raises(ValidationFailed):
        take(cashier, household, year(item))
    with pytest.raises(ValidationFailed) as err:
        item_order(household, item, 12, cashier)
    assert "超过本项目预收上限 6 个月" in err.value.message
    assert nothing_written()


def test_an_open_bill_left_out_is_refused(payments_fake, household, item, offer, cashier):
    with pytest.raises(ValidationFailed) as err:
        take(cashier, household, year(item), bill_ids=open_ids(household)[:1])
    assert err.value.field == "bill_ids" and "全部未缴账单" in err.value.message
    assert nothing_written()


def test_a_figure_other_than_the_panel_showed_is_refused(
    payments_fake, household, item, offer, cashier
):
    with pytest.raises(ValidationFailed) as err:
        take(cashier, household, year(item), expected="300.00")  # shown before 预交 was priced
    assert err.value.code == "payments.amount_changed"
    assert "1440.00" in err.value.message
    assert nothing_written()
    assert take(cashier, household, year(item), expected="1440.00").status == OrderStatus.PAID


@pytest.mark.parametrize("role", [Role.LEGAL, Role.OTHER_STAFF])
def test_only_collectors_take_a_payment_code(
    payments_fake, household, item, offer, make_user, project, role
):
    someone = make_user("someone", role, project)
    with pytest.raises(NotInScope):
        take(someone, household, year(item))
    assert nothing_written()


# --- the window's panel ----------------------------------------------------------------------------


def test_window_panel_sends_the_choice_and_the_receipt_lists_the_months(
    client, payments_fake, household, item, offer, cashier
):
    client.force_login(cashier)
    page = client.get(f"/ledger/window/rooms/{household.room_id}/").content.decode()
    assert 'id="micropay-form"' in page and 'id="micropay-due"' in page
    assert 'data-follows="window-due">300.00<' in page
    response = client.post(
        f"/payments/accounts/{household.pk}/micropay/",
        {
            "auth_code": WECHAT_CODE,
            "bill": open_ids(household),
            "ahead": year(item),
            "expected": "1440.00",
        },
    )
    assert response.status_code == 302
    payment = Payment.objects.get(account=household)
    assert response["Location"].endswith(f"/payments/{payment.pk}/done/")
    assert payment.amount == Decimal("1440.00")
    receipt = client.get(response["Location"]).content.decode()
    last = ahead_bills().order_by("-period_start").first().period_start
    assert f"{last:%Y-%m}" in receipt  # the twelfth month ahead is on the receipt
    assert "微信支付付款码收款 1440.00 元已入账" in receipt


def test_window_panel_refusal_says_why_and_writes_nothing(
    client, payments_fake, household, item, offer, cashier
):
    client.force_login(cashier)
    response = client.post(
        f"/payments/accounts/{household.pk}/micropay/",
        {
            "auth_code": WECHAT_CODE,
            "bill": open_ids(household),
            "ahead": year(item),
            "expected": "300.00",
        },
        follow=True,
    )
    assert "付款码收款未成功：应收金额已变为 1440.00 元" in response.content.decode()
    assert nothing_written()


def test_the_panel_shows_with_no_open_bills_when_months_can_be_paid_ahead(
    client, payments_fake, household, item, offer, cashier
):
    factories.pay(cashier, household, "300.00", bill_ids=open_ids(household))
    client.force_login(cashier)
    page = client.get(f"/ledger/window/rooms/{household.room_id}/").content.decode()
    assert 'id="micropay-form"' in page
