"""Ledger API (mounted at ``/api/ledger/``): what a room owes, and taking a payment.

Every call starts from the caller's projects; a room, account or payment outside them is answered
with 404 (``NotInScope``). Business-rule refusals come back as 400 ``{code, message, field}`` through the
API's exception handler, with the same Chinese messages as the pages.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Router, Schema, Status

from wuye.billing.models import Account
from wuye.billing.pay_ahead import window_ahead_choice, window_ahead_choices
from wuye.billing.selectors import accounts_of_room
from wuye.core.errors import NotInScope, ValidationFailed
from wuye.core.money import money
from wuye.core.scope import access_project, project_ids_for
from wuye.ledger.models import Allocation, Payment
from wuye.ledger.selectors.payments import payment_is_reversed, payments_in
from wuye.ledger.selectors.receipts import receipt_data
from wuye.ledger.selectors.window import account_position, unpaid_bills
from wuye.ledger.services.payments import payment_record, payment_with_ahead
from wuye.ledger.window_forms import ahead_quote
from wuye.registry.models import Room

router = Router(tags=["ledger 收款与账务"])


class UnpaidBillOut(Schema):
    id: int
    kind: str = Field(description="charge 费用 / late_fee 滞纳金")
    fee_item: str
    period_start: datetime.date
    period_end: datetime.date
    due_date: datetime.date
    amount: Decimal
    outstanding: Decimal
    late_fee_due: Decimal = Field(description="按法定上限计、扣除减免和已出账滞纳金后的应收滞纳金")
    late_fee_contract: Decimal = Field(description="按合同约定计的滞纳金（高于上限时仅供对照）")
    late_fee_days: int


class AccountPositionOut(Schema):
    account_id: int
    payer: str
    as_of: datetime.date
    billed: Decimal
    reduced: Decimal
    paid: Decimal
    outstanding: Decimal
    overdue: Decimal
    overdue_bills: int
    oldest_overdue_due_date: datetime.date | None
    prepaid_balance: Decimal
    late_fees_due: Decimal
    unpaid_bills: list[UnpaidBillOut]


class RoomPositionOut(Schema):
    room_id: int
    room_code: str
    accounts: list[AccountPositionOut]


class LineIn(Schema):
    method: str = Field(description="cash/wechat/alipay/card/transfer/withholding/prepaid")
    amount: Decimal | str = Field(description='元，最多两位小数；建议以字符串传入，如 "120.50"')
    reference: str = ""


class PaymentIn(Schema):
    account_id: int
    lines: list[LineIn]
    bill_ids: list[int] | None = Field(None, description="留空表示按到期日从早到晚核销")
    business_date: datetime.date | None = None
    include_late_fees: bool = True
    idempotency_key: str | None = Field(None, description="同一次提交的唯一编号，重复提交只收一次")
    note: str = ""
    pay_ahead: str = Field(
        "",
        description="预交：pay-ahead 报价接口列出的选项（“收费项目编号:月数”）；须与全部欠费一次付清",
    )
    pay_ahead_amount: Decimal | None = Field(
        None, description="预交时必填：报价接口给出的预交金额（金额变化时拒收，不出账）"
    )


class AheadOptionOut(Schema):
    value: str = Field(description="收款时作为 pay_ahead 传回")
    label: str
    fee_item_id: int
    months: int
    rule: str = Field(description="适用的预交优惠名称，无则为空")


class AheadQuoteOut(Schema):
    value: str
    label: str
    periods: str = Field(description="预交的所属期间，如 2027-01 至 2027-12")
    billed: Decimal = Field(description="预交月份的应收")
    discount: Decimal = Field(description="预交优惠")
    amount: Decimal = Field(description="预交金额（收款时作为 pay_ahead_amount 传回）")


class AllocationOut(Schema):
    bill_id: int
    amount: Decimal


class PaymentOut(Schema):
    id: int
    receipt_no: int
    account_id: int
    amount: Decimal
    business_date: datetime.date
    reversed: bool
    allocations: list[AllocationOut]
    prepaid_deposit: Decimal
    prepaid_balance: Decimal


def _position(account: Account, as_of: datetime.date | None) -> AccountPositionOut:
    position = account_position(account, as_of)
    bills = unpaid_bills(account, position.as_of)
    return AccountPositionOut(
        account_id=account.pk,
        payer=account.payer.name,
        as_of=position.as_of,
        billed=position.billed,
        reduced=position.reduced,
        paid=position.paid,
        outstanding=position.outstanding,
        overdue=position.overdue,
        overdue_bills=position.overdue_bills,
        oldest_overdue_due_date=position.oldest_overdue_due_date,
        prepaid_balance=position.prepaid_balance,
        late_fees_due=sum((b.late_fee.due for b in bills), Decimal("0.00")),
        unpaid_bills=[
            UnpaidBillOut(
                id=b.pk,
                kind=b.kind,
                fee_item=b.fee_item.name,
                period_start=b.period_start,
                period_end=b.period_end,
                due_date=b.due_date,
                amount=b.amount,
                outstanding=b.outstanding,
                late_fee_due=b.late_fee.due,
                late_fee_contract=b.late_fee.contract,
                late_fee_days=b.late_fee.days,
            )
            for b in bills
        ],
    )


def _payment_out(payment: Payment) -> PaymentOut:
    allocations = list(
        Allocation.objects.filter(payment=payment, amount__gt=0)
        .order_by("id")
        .values_list("bill_id", "amount")
    )
    receipt = receipt_data(payment)
    return PaymentOut(
        id=payment.pk,
        receipt_no=payment.receipt_no,
        account_id=payment.account_id,
        amount=payment.amount,
        business_date=payment.business_date,
        reversed=payment_is_reversed(payment),
        allocations=[AllocationOut(bill_id=b, amount=a) for b, a in allocations],
        prepaid_deposit=receipt.prepaid_deposit,
        prepaid_balance=receipt.prepaid_balance,
    )


@router.get(
    "/rooms/{room_id}/position",
    response=RoomPositionOut,
    summary="房屋各缴费账户的欠费、逾期、预存款及未缴账单（可查任一历史日期）",
)
def room_position(request: HttpRequest, room_id: int, as_of: datetime.date | None = None):
    room = Room.objects.filter(pk=room_id, project_id__in=project_ids_for(request.user)).first()
    if room is None:
        raise NotInScope("房屋不存在或不在您的项目范围内。")
    return RoomPositionOut(
        room_id=room.pk,
        room_code=room.code,
        accounts=[_position(account, as_of) for account in accounts_of_room(room)],
    )


@router.post(
    "/payments", response={201: PaymentOut}, summary="收款（可多种支付方式，默认按到期日先后核销）"
)
def payment_create(request: HttpRequest, data: PaymentIn):
    account = _account_in_scope(request, data.account_id)
    lines = [(line.method, line.amount, line.reference) for line in data.lines]
    if data.pay_ahead:
        payment = _payment_with_ahead(request, account, data, lines)
    else:
        payment = payment_record(
            user=request.user,
            account=account,
            lines=lines,
            bill_ids=data.bill_ids,
            business_date=data.business_date,
            include_late_fees=data.include_late_fees,
            idempotency_key=data.idempotency_key,
            note=data.note,
            cashier_entry=True,  # a date before today needs a supervisor's approval: window only
        )
    return Status(201, _payment_out(payment))


def _payment_with_ahead(request, account: Account, data: PaymentIn, lines) -> Payment:
    """收款 with 预交, as at the window: today only, every open bill, the quoted amount."""
    today = timezone.localdate()
    if data.business_date is not None and data.business_date != today:
        raise ValidationFailed("预交只能按今天收款", field="business_date")
    if data.pay_ahead_amount is None:
        raise ValidationFailed("预交时请传入报价接口给出的预交金额", field="pay_ahead_amount")
    choice = window_ahead_choice(account, data.pay_ahead, today)
    return payment_with_ahead(
        user=request.user,
        account=account,
        ahead=choice,
        expected=data.pay_ahead_amount,
        lines=lines,
        bill_ids=data.bill_ids
        if data.bill_ids is not None
        else [b.pk for b in unpaid_bills(account, today)],
        idempotency_key=data.idempotency_key,
        note=data.note,
    )


@router.get(
    "/accounts/{account_id}/pay-ahead",
    response=list[AheadOptionOut],
    summary="预交选项：本户可预交的收费项目和月数（不超过预收上限），及适用的预交优惠",
)
def pay_ahead_options(request: HttpRequest, account_id: int):
    account = _account_in_scope(request, account_id)
    return [
        AheadOptionOut(
            value=c.value,
            label=c.label,
            fee_item_id=c.fee_item.pk,
            months=c.months,
            rule=c.rule.name if c.rule else "",
        )
        for c in window_ahead_choices(account, timezone.localdate())
    ]


@router.get(
    "/accounts/{account_id}/pay-ahead/quote",
    response=AheadQuoteOut,
    summary="预交报价：按今天的收费标准和优惠计算，不出账",
)
def pay_ahead_quote_get(request: HttpRequest, account_id: int, value: str):
    account = _account_in_scope(request, account_id)
    priced = ahead_quote(account, value, timezone.localdate())
    if priced is None or priced.result is None or priced.choice is None:
        raise ValidationFailed(priced.error if priced else "请选择预交选项", field="value")
    bills = priced.result.bills
    return AheadQuoteOut(
        value=priced.choice.value,
        label=priced.choice.label,
        periods=f"{bills[0].period_start:%Y-%m} 至 {bills[-1].period_end:%Y-%m}",
        billed=money(priced.result.billed),
        discount=money(priced.result.discount),
        amount=money(priced.result.amount_due),
    )


def _account_in_scope(request: HttpRequest, account_id: int) -> Account:
    account = (
        Account.objects.filter(pk=account_id, project_id__in=project_ids_for(request.user))
        .select_related("project")
        .first()
    )
    if account is None:
        raise NotInScope("缴费账户不存在或不在您的项目范围内。")
    access_project(request.user, account.project_id)
    return account


@router.get("/payments/{payment_id}", response=PaymentOut, summary="一笔收款")
def payment_get(request: HttpRequest, payment_id: int):
    payment = payments_in(project_ids_for(request.user)).filter(pk=payment_id).first()
    if payment is None:
        raise NotInScope("收款不存在或不在您的项目范围内。")
    return _payment_out(payment)
