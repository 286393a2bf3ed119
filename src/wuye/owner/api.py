"""Owner API (mounted at ``/api/owner/``): the owner page's operations as JSON, for a WeChat
mini-program or another client of the owner's.

Authentication is the household's signed link, in the header ``X-Owner-Link`` (the part of the
page address after ``/o/``): altered, expired or revoked links are answered 401. Without
verification a client sees what the page shows anyone holding the link (room, masked payer, amount
owed) and may pay everything owed; bills, payments and receipts need an SMS code: ``POST /code``,
then ``POST /verify`` returns ``verified_token``, sent as ``X-Owner-Verified`` (valid
``WUYE_OWNER_VERIFIED_MINUTES``). Everything is the link's household's; an id of another household
is answered 404.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError
from ninja.security import APIKeyHeader

from wuye.core.errors import NotInScope, ValidationFailed
from wuye.core.masking import mask_phone
from wuye.ledger.pdf import receipt_pdf
from wuye.ledger.selectors.receipts import receipt_data
from wuye.owner import links, paying, selectors, services
from wuye.owner.models import OwnerLink
from wuye.owner.views import client_ip


class OwnerLinkAuth(APIKeyHeader):
    param_name = "X-Owner-Link"

    def authenticate(self, request: HttpRequest, key: str | None) -> OwnerLink | None:
        if not key:
            return None
        try:
            return links.link_read(key)
        except links.LinkRefused:
            return None


router = Router(tags=["owner 业主自助缴费"], auth=OwnerLinkAuth())


def _link(request) -> OwnerLink:
    return request.auth


def _verified(request) -> OwnerLink:
    link = _link(request)
    if not links.is_verified(link, request.headers.get("X-Owner-Verified", "")):
        raise HttpError(403, "请先通过短信验证码验证身份（POST /api/owner/verify）")
    return link


class SummaryOut(Schema):
    room_code: str
    payer: str = Field(description="缴费人姓名（已脱敏，如 张*）")
    owed: Decimal = Field(description="应缴合计：未缴金额 + 按法定上限计的滞纳金")
    phones: list[PhoneOut] = Field(description="可接收验证码的本户手机（已脱敏）")


class PhoneOut(Schema):
    id: int
    number: str


SummaryOut.model_rebuild()


class CodeIn(Schema):
    phone_id: int


class VerifyIn(Schema):
    code: str = Field(description="短信中的 6 位验证码")


class VerifiedOut(Schema):
    verified_token: str = Field(description="放入请求头 X-Owner-Verified")
    expires_in: int = Field(description="秒")


class BillOut(Schema):
    id: int
    item: str
    period: str
    month: str
    due_date: datetime.date
    outstanding: Decimal
    late_fee: Decimal = Field(description="按法定上限计的应收滞纳金（与窗口收取一致）")
    total: Decimal


class BillsOut(Schema):
    room_code: str
    owed: Decimal
    prepaid_balance: Decimal
    max_prepay_months: int
    allow_skip: bool = Field(description="是否允许跳过较早的账单")
    pay_ahead_rules: list[str]
    pay_ahead_choices: list[int] = Field(
        description="可线上预交的月数（空 = 本项目没有适用于本户的预交优惠规则，不能线上预交）"
    )
    bills: list[BillOut]


class OrderIn(Schema):
    channel: str = Field(description="wechat / alipay")
    scene: str = Field(
        "h5",
        description="微信：jsapi（微信内，需 openid）/ h5 / native（扫码）；支付宝：wap / qr",
    )
    openid: str = ""
    up_to: str = Field("", description="缴到的月份 YYYY-MM（从最早的欠费开始）；留空 = 全部")
    bill_ids: list[int] | None = Field(None, description="仅在项目允许跳过时可逐笔选择")
    pay_ahead_months: int = Field(
        0,
        description="同时预交的月数（预交须同时缴清全部欠费：up_to 与 bill_ids 留空；"
        "须有适用的预交优惠规则，且不超过项目预收上限；金额由服务器按窗口的预交规则计算）",
    )
    return_url: str = Field("", description="支付完成后平台跳回的地址（H5/手机网站支付）")


class OrderOut(Schema):
    out_trade_no: str
    amount: Decimal
    pay_ahead_months: int = 0
    pay_ahead_amount: Decimal = Decimal("0.00")
    status: str = Field(description="open / paid / closed / expired / failed")
    pay_params: dict
    payment_id: int | None = None
    receipt_url: str = ""


class PaymentOut(Schema):
    id: int
    receipt_no: int
    business_date: datetime.date
    amount: Decimal
    reversed: bool
    receipt_url: str


def _order_out(order) -> OrderOut:
    payment_id = getattr(order, "payment_id", None)
    return OrderOut(
        out_trade_no=order.out_trade_no,
        amount=order.amount,
        pay_ahead_months=order.pay_ahead_months,
        pay_ahead_amount=order.pay_ahead_amount,
        status=order.status,
        pay_params=order.pay_params or {},
        payment_id=payment_id,
        receipt_url=reverse("api:owner_receipt", args=[payment_id]) if payment_id else "",
    )


@router.get(
    "/summary", response=SummaryOut, summary="本户概况（无需验证：房号、脱敏姓名、应缴合计）"
)
def summary(request: HttpRequest):
    link = _link(request)
    page = selectors.owner_page(link, verified=False)
    return SummaryOut(
        room_code=page.room_code,
        payer=page.payer_masked,
        owed=page.owed,
        phones=[
            PhoneOut(id=p.pk, number=mask_phone(p.number))
            for p in selectors.phones_on_file(link.account)
        ],
    )


@router.post("/code", response={202: None}, summary="发送短信验证码到本户登记的手机")
def code(request: HttpRequest, data: CodeIn):
    services.code_send(link=_link(request), phone_id=data.phone_id, ip=client_ip(request))
    return Status(202, None)


@router.post("/verify", response=VerifiedOut, summary="校验验证码，返回验证令牌")
def verify(request: HttpRequest, data: VerifyIn):
    link = _link(request)
    services.code_verify(link=link, code=data.code)
    return VerifiedOut(
        verified_token=links.verified_token(link), expires_in=links.verified_minutes() * 60
    )


@router.get("/bills", response=BillsOut, summary="未缴账单（含法定上限滞纳金）；需验证")
def bills(request: HttpRequest):
    link = _verified(request)
    page = selectors.owner_page(link, verified=True)
    return BillsOut(
        room_code=page.room_code,
        owed=page.owed,
        prepaid_balance=page.prepaid_balance,
        max_prepay_months=page.max_prepay_months,
        allow_skip=paying.allow_skip(link),
        pay_ahead_rules=page.pay_ahead_rules,
        pay_ahead_choices=[m for m, _ in page.ahead_choices],
        bills=[BillOut(**line.__dict__) for line in page.bills],
    )


@router.post(
    "/orders", response={201: OrderOut}, summary="创建支付订单（金额由服务器按所选账单计算）"
)
def order_create(request: HttpRequest, data: OrderIn):
    link = _link(request)
    verified = links.is_verified(link, request.headers.get("X-Owner-Verified", ""))
    if not verified and (data.up_to or data.bill_ids or data.pay_ahead_months):
        raise ValidationFailed("未验证身份时只能缴清全部欠费", field="bill_ids")
    # Pay-ahead needs every open bill with it (wuye.payments refuses a partial choice).
    bill_ids = selectors.chosen_bill_ids(link, up_to=data.up_to, bill_ids=data.bill_ids)
    order = paying.order_create(
        link,
        bill_ids=bill_ids,
        channel=data.channel,
        scene=data.scene,
        openid=data.openid,
        pay_ahead_months=data.pay_ahead_months,
        client_ip=client_ip(request),
        return_url=data.return_url,
    )
    return Status(201, _order_out(order))


@router.get(
    "/orders/{out_trade_no}", response=OrderOut, summary="订单状态（未支付时向支付平台查单）"
)
def order_status(request: HttpRequest, out_trade_no: str):
    order = paying.order_of(_link(request), out_trade_no)
    if order is None:
        raise NotInScope("没有这笔订单")
    return _order_out(order)


@router.get("/payments", response=list[PaymentOut], summary="缴费记录；需验证")
def payments(request: HttpRequest):
    link = _verified(request)
    return [
        PaymentOut(
            id=p.pk,
            receipt_no=p.receipt_no,
            business_date=p.business_date,
            amount=p.amount,
            reversed=hasattr(p, "reversal"),
            receipt_url=reverse("api:owner_receipt", args=[p.pk]),
        )
        for p in selectors.payments_of(link)
    ]


@router.get(
    "/payments/{payment_id}/receipt",
    url_name="owner_receipt",
    summary="收据 PDF（与窗口同一编号）；需验证",
    response={200: None},
)
def receipt(request: HttpRequest, payment_id: int):
    link = _verified(request)
    payment = selectors.payment_of(link, payment_id)
    if payment is None:
        raise NotInScope("没有这笔缴费")
    response = HttpResponse(receipt_pdf(receipt_data(payment)), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="receipt-{payment.receipt_no}.pdf"'
    return response
