"""Ledger API (mounted at ``/api/ledger/``): what a room owes, and taking a payment.

Every call starts from the caller's projects; a room, account or payment outside them is answered
with 404 (``NotInScope``). Business-rule refusals come back as 400 ``{code, message, field}`` through the
API's exception handler, with the same Chinese messages as the pages.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from wuye.billing.models import Account
from wuye.billing.selectors import accounts_of_room
from wuye.core.errors import NotInScope
from wuye.core.scope import access_project, project_ids_for
from wuye.ledger.models import Allocation, Payment
from wuye.ledger.selectors.payments import payment_is_reversed, payments_in
from wuye.ledger.selectors.receipts import receipt_data
from wuye.ledger.selectors.window import account_position, unpaid_bills
from wuye.ledger.services.payments import payment_record
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
    account = (
        Account.objects.filter(pk=data.account_id, project_id__in=project_ids_for(request.user))
        .select_related("project")
        .first()
    )
    if account is None:
        raise NotInScope("缴费账户不存在或不在您的项目范围内。")
    access_project(request.user, account.project_id)
    payment = payment_record(
        user=request.user,
        account=account,
        lines=[(line.method, line.amount, line.reference) for line in data.lines],
        bill_ids=data.bill_ids,
        business_date=data.business_date,
        include_late_fees=data.include_late_fees,
        idempotency_key=data.idempotency_key,
        note=data.note,
        cashier_entry=True,  # a date before today needs a supervisor's approval: at the window only
    )
    return Status(201, _payment_out(payment))


@router.get("/payments/{payment_id}", response=PaymentOut, summary="一笔收款")
def payment_get(request: HttpRequest, payment_id: int):
    payment = payments_in(project_ids_for(request.user)).filter(pk=payment_id).first()
    if payment is None:
        raise NotInScope("收款不存在或不在您的项目范围内。")
    return _payment_out(payment)
