"""Pages of online payment: the platforms' callbacks (no login: the signature is the check), the
online orders with what finance must look at, refunds, and the daily reconciliation per channel.

Views check scope and role and render; writes go through ``services``, ``refunds`` and
``reconcile``. An order outside the user's projects is a 404; a role that may not act is a 403.
"""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from wuye.billing.models import Account
from wuye.core import roles, xlsx
from wuye.core.approvals import approver_of_form
from wuye.core.errors import NotInScope, WuyeError
from wuye.core.scope import project_ids_for, role_in
from wuye.ledger.office_forms import place_error
from wuye.ledger.window_forms import chosen_ids
from wuye.payments import notices, reconcile, refunds, selectors, services
from wuye.payments.enums import Channel, ReconStatus
from wuye.payments.forms import RefundForm
from wuye.payments.models import PaymentOrder, Reconciliation, ReconciliationLine

CONTENT_TYPES = {"wechat": "application/json", "alipay": "text/plain; charset=utf-8"}
REFUND_RULE = (
    "规定：退款须写明原因并经有权限的主管授权（全额退款冲红该笔收款，部分退款从预存款退回）。"
)


def request_headers(request) -> dict[str, str]:
    """The request's HTTP headers under their own names (Wechatpay-Signature, …)."""
    return dict(request.headers.items())


@csrf_exempt
@require_POST
def notify(request, channel: str):
    """支付/退款结果通知 of a platform: checked, stored, answered as it expects; the quick queue
    posts it exactly once (``payments.notices``)."""
    status, body = notices.notification_accept(channel, request_headers(request), request.body)
    return HttpResponse(body, status=status, content_type=CONTENT_TYPES.get(channel, "text/plain"))


def _staff_ids(request) -> list[int]:
    ids = [
        pid
        for pid in project_ids_for(request.user)
        if role_in(request.user, pid) in roles.COLLECTOR_ROLES
    ]
    if not ids:
        raise PermissionDenied("您的角色不能查看线上缴费。")
    return ids


@login_required
@require_GET
def orders(request):
    """线上缴费: orders of the user's projects, newest first, and what finance must look at."""
    ids = _staff_ids(request)
    status = request.GET.get("status", "")
    rows = selectors.orders_in(ids)
    if status:
        rows = rows.filter(status=status)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "payments/orders.html",
        {
            "page": page,
            "issues": list(selectors.open_issues(ids)[:100]),
            "waiting": list(selectors.notices_waiting(ids)[:100]),
            "status": status,
            "statuses": PaymentOrder._meta.get_field("status").choices,
        },
    )


def _order(request, order_id: int) -> PaymentOrder:
    order = (
        PaymentOrder.objects.select_related("account__room", "payment", "project")
        .filter(pk=order_id, project_id__in=project_ids_for(request.user))
        .first()
    )
    if order is None:
        raise Http404("订单不存在或不在您的项目范围内")
    return order


def _render_order(request, order, *, form=None, error="", status=200):
    return render(
        request,
        "payments/order.html",
        {
            "order": order,
            "bills": order.bills.select_related("bill__fee_item"),
            "refunds": order.refunds.all().order_by("-created_at"),
            "issues": order.issues.all().order_by("-created_at"),
            "form": form or RefundForm(initial={"amount": order.paid_amount}),
            "error": error,
            "rule": REFUND_RULE,
            "can_refund": role_in(request.user, order.project_id) in roles.COLLECTOR_ROLES,
        },
        status=status,
    )


@login_required
@require_GET
def order_page(request, order_id: int):
    return _render_order(request, _order(request, order_id))


@login_required
@require_POST
def order_refresh(request, order_id: int):
    order = _order(request, order_id)
    try:
        services.order_refresh(order)
    except WuyeError as exc:
        messages.error(request, exc.message)
    except Exception as exc:  # noqa: BLE001 - a platform that cannot be reached
        messages.error(request, f"查单失败：{exc}")
    return redirect("payments:order", order.pk)


@login_required
@require_POST
def order_refund(request, order_id: int):
    order = _order(request, order_id)
    if role_in(request.user, order.project_id) not in roles.COLLECTOR_ROLES:
        raise PermissionDenied("您的角色不能办理退款。")
    form = RefundForm(request.POST)
    if not form.is_valid():
        return _render_order(request, order, form=form, status=400)
    try:
        approver = approver_of_form(
            request=request,
            project=order.project_id,
            form=form,
            roles=refunds.APPROVER_ROLES,
            rule=REFUND_RULE,
        )
        refund = refunds.refund_request(
            user=request.user,
            order=order,
            amount=form.cleaned_data.get("amount") or "",
            reason=form.cleaned_data.get("reason") or "",
            approved_by=approver,
        )
    except (WuyeError, NotInScope) as exc:
        return _render_order(request, order, form=form, error=place_error(form, exc), status=400)
    messages.success(request, f"退款 {refund.amount} 元：{refund.get_status_display()}")
    return redirect("payments:order", order.pk)


# --- reconciliation --------------------------------------------------------------------------------


def _reconciler(request) -> list[int]:
    ids = [
        pid
        for pid in project_ids_for(request.user)
        if role_in(request.user, pid) in roles.RECONCILE_ROLES
    ]
    if not ids:
        raise PermissionDenied("只有财务或公司管理员可以对账。")
    return ids


def _day_channel(request) -> tuple[datetime.date, str]:
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    try:
        day = datetime.date.fromisoformat(request.GET.get("day") or request.POST.get("day") or "")
    except ValueError:
        day = yesterday
    channel = request.GET.get("channel") or request.POST.get("channel") or Channel.WECHAT
    if channel not in Channel.values:
        channel = Channel.WECHAT
    return day, channel


def _lines(recon: Reconciliation | None, ids: list[int]):
    if recon is None:
        return []
    lines = recon.lines.select_related("order__account__room", "payment").order_by(
        "status", "trade_time", "id"
    )
    # Lines of other projects' orders stay out; a line with no order of ours is shown to finance.
    return [line for line in lines if line.order is None or line.order.project_id in ids]


@login_required
@require_GET
def reconciliation(request):
    """对账: a day and a channel, the statement against the ledger."""
    ids = _reconciler(request)
    day, channel = _day_channel(request)
    recon = Reconciliation.objects.filter(channel=channel, day=day).first()
    lines = _lines(recon, ids)
    return render(
        request,
        "payments/reconciliation.html",
        {
            "recon": recon,
            # The figures of the lines shown: the statement covers every project on the merchant.
            "totals": selectors.recon_totals(lines),
            "lines": lines,
            "day": day,
            "channel": channel,
            "channels": Channel.choices,
            "differences": ReconStatus.MATCHED,
        },
    )


@login_required
@require_POST
def reconciliation_run(request):
    ids = _reconciler(request)
    day, channel = _day_channel(request)
    try:
        recon = reconcile.reconcile_day(channel, day, user=request.user)
        lines = _lines(recon, ids)
        totals = selectors.recon_totals(lines)
        messages.success(request, f"已对账：{len(lines)} 笔，差异 {totals.difference_count} 笔")
    except WuyeError as exc:
        messages.error(request, exc.message)
    return redirect(f"{reverse('payments:reconciliation')}?day={day}&channel={channel}")


@login_required
@require_POST
def reconciliation_line_post(request, line_id: int):
    ids = _reconciler(request)
    line = (
        ReconciliationLine.objects.select_related("reconciliation", "order")
        .filter(pk=line_id)
        .first()
    )
    if line is None or (line.order is not None and line.order.project_id not in ids):
        raise Http404("对账明细不存在或不在您的项目范围内")
    try:
        reconcile.line_post(user=request.user, line=line)
        messages.success(request, f"已核对入账：{line.out_trade_no}")
    except (WuyeError, NotInScope) as exc:
        messages.error(request, exc.message)
    recon = line.reconciliation
    return redirect(f"{reverse('payments:reconciliation')}?day={recon.day}&channel={recon.channel}")


@login_required
@require_GET
def reconciliation_export(request):
    ids = _reconciler(request)
    day, channel = _day_channel(request)
    recon = Reconciliation.objects.filter(channel=channel, day=day).first()
    if recon is None:
        raise Http404("该日尚未对账")
    lines = _lines(recon, ids)
    totals = selectors.recon_totals(lines)
    book = xlsx.workbook()
    sheet = book.create_sheet("对账")
    sheet.append([f"{Channel(channel).label} {day:%Y-%m-%d} 对账"])
    sheet.append(
        [
            "平台笔数",
            totals.platform_count,
            "平台金额(元)",
            totals.platform_amount,
            "账上笔数",
            totals.ledger_count,
            "账上金额(元)",
            totals.ledger_amount,
            "手续费(元)",
            totals.fee_amount,
            "差异笔数",
            totals.difference_count,
        ]
    )
    sheet.append(
        [
            "类型",
            "结果",
            "交易时间",
            "商户订单号",
            "平台交易号",
            "退款单号",
            "房号",
            "平台金额(元)",
            "账上金额(元)",
            "手续费(元)",
            "收据号",
        ]
    )
    for line in lines:
        sheet.append(
            [
                line.get_kind_display(),
                line.get_status_display(),
                line.trade_time,
                line.out_trade_no,
                line.transaction_id,
                line.out_refund_no,
                line.order.account.room.code if line.order else "",
                line.platform_amount,
                line.ledger_amount,
                line.fee,
                f"{line.payment.receipt_no:08d}" if line.payment else "",
            ]
        )
    response = HttpResponse(
        xlsx.save(book),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="reconciliation-{channel}-{day}.xlsx"'
    return response


# --- the fee window: payment codes ------------------------------------------------------------------


@login_required
@require_POST
def micropay(request, account_id: int):
    """付款码收款 at the window: the ticked bills, and the 预交 chosen in the window's form
    (``ahead``), paid from the owner's WeChat/Alipay payment code through the same order and
    exactly-once posting as the owner page, for the total the panel showed (``expected``)."""
    account = (
        Account.objects.select_related("room", "project")
        .filter(pk=account_id, project_id__in=project_ids_for(request.user))
        .first()
    )
    if account is None:
        raise Http404("缴费账户不存在或不在您的项目范围内")
    if role_in(request.user, account.project_id) not in roles.COLLECTOR_ROLES:
        raise PermissionDenied("您的角色不能收费。")
    back = f"{reverse('ledger:window_room', args=[account.room_id])}?account={account.pk}"
    try:
        order = services.micropay_take(
            user=request.user,
            account=account,
            bill_ids=chosen_ids(request.POST),
            auth_code=request.POST.get("auth_code", ""),
            pay_ahead=request.POST.get("ahead", "").strip(),
            expected=request.POST.get("expected", "").strip() or None,
        )
    except (WuyeError, NotInScope) as exc:
        messages.error(request, f"付款码收款未成功：{exc.message}")
        return redirect(back)
    if order.payment_id is not None:
        messages.success(
            request, f"{order.get_channel_display()}付款码收款 {order.amount} 元已入账"
        )
        return redirect("ledger:window_done", order.payment_id)
    if order.status == "open":
        messages.info(request, "顾客需在手机上确认支付（输入密码）；确认后点“向平台查询支付结果”。")
    else:
        messages.error(
            request, f"付款码收款未成功：{order.last_error or order.get_status_display()}"
        )
    return redirect("payments:order", order.pk)
