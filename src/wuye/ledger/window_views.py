"""The fee window (收银台), receipts and invoice requests.

Views check access and render; money moves only through ``ledger.services`` and every figure comes
from ``ledger.selectors`` (``unpaid_bills`` carries each bill's capped late fee). A room, payment or
invoice request outside the user's projects is a 404; a role that does not collect money gets 403.
"""

from __future__ import annotations

import datetime
import uuid
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from wuye.billing.models import Account
from wuye.billing.pay_ahead import window_ahead_choices
from wuye.billing.selectors import accounts_of_room, billing_settings
from wuye.core import hooks, roles
from wuye.core.approvals import approver_from_form
from wuye.core.dates import date_param
from wuye.core.errors import NotInScope, ValidationFailed, WuyeError
from wuye.core.money import money
from wuye.core.scope import can_see_phones, project_ids_for, role_in
from wuye.ledger.enums import InvoiceStatus, PaymentMethod
from wuye.ledger.models import InvoiceRequest, Payment
from wuye.ledger.pdf import receipt_pdf as draw_receipt
from wuye.ledger.selectors.closing import closing_of
from wuye.ledger.selectors.payments import payment_detail, payment_with_key
from wuye.ledger.selectors.prepaid import prepaid_available
from wuye.ledger.selectors.receipts import period_text, receipt_data
from wuye.ledger.selectors.window import account_of_room, unpaid_bills
from wuye.ledger.services import receipts
from wuye.ledger.services.payments import payment_record, payment_with_ahead
from wuye.ledger.services.receipts import PAPERS, invoice_request_mark_issued, receipt_print_record
from wuye.ledger.window_forms import (
    METHODS_WITH_REFERENCE,
    InvoiceIssueForm,
    InvoiceRequestForm,
    LineInput,
    PaymentForm,
    ahead_quote,
    chosen_ids,
    lines_from_post,
    parse_amount,
    quote,
    service_lines,
)
from wuye.registry.models import Room
from wuye.registry.selectors import search_households

# Who sees the invoice-request list: whoever takes money (finance among them).


def _collector(request, project_id: int) -> None:
    if role_in(request.user, project_id) not in roles.COLLECTOR_ROLES:
        raise PermissionDenied("您的角色不能收费。收银台供收费员、财务、主管、项目经理和楼管使用。")


def _current_project(request):
    if not request.project:
        raise Http404("没有可用的项目")
    _collector(request, request.project.pk)
    return request.project


def _room_in_scope(request, room_id: int) -> Room:
    room = (
        Room.objects.filter(pk=room_id, project_id__in=project_ids_for(request.user))
        .select_related("project", "building")
        .first()
    )
    if room is None:
        raise Http404("房屋不存在或不在您的项目范围内")
    _collector(request, room.project_id)
    return room


def _payment_in_scope(request, payment_id: int) -> Payment:
    payment = payment_detail(payment_id, project_ids_for(request.user))
    if payment is None:
        raise Http404("收款不存在或不在您的项目范围内")
    return payment


# --- finding the household ---------------------------------------------------------------------


@login_required
def window(request):
    project = _current_project(request)
    return render(
        request,
        "ledger/window.html",
        {
            "project": project,
            "q": request.GET.get("q", ""),
            "day_closed": closing_of(project.pk, request.user.pk, timezone.localdate()),
        },
    )


@login_required
@require_GET
def window_search(request):
    project = _current_project(request)
    text = request.GET.get("q", "")
    show_phones = can_see_phones(request.user, project)
    hits = (
        search_households(project=project, text=text, full_phone=show_phones)
        if text.strip()
        else []
    )
    return render(
        request,
        "ledger/window_search_results.html",
        {"hits": hits, "q": text, "show_phones": show_phones},
    )


# --- one household's window --------------------------------------------------------------------


def _accounts(room: Room, wanted: str | None) -> tuple[Account | None, list[Account]]:
    """The account shown (the one asked for, else the current payer's, else the newest) and all of
    the room's accounts (the developer's before handover, then the owner's…)."""
    accounts = accounts_of_room(room)
    if wanted:
        chosen = next((a for a in accounts if str(a.pk) == str(wanted)), None)
        if chosen is None:
            raise Http404("该缴费账户不属于这间房")
        return chosen, accounts
    if len(accounts) > 1:
        current = account_of_room(room)
        if current is not None:
            return next(a for a in accounts if a.pk == current.pk), accounts
    return (accounts[0] if accounts else None), accounts


def _window_context(
    request,
    room: Room,
    account: Account | None,
    accounts: list[Account],
    *,
    form: PaymentForm | None = None,
    rows: list[LineInput] | None = None,
    chosen: list[int] | None = None,
    ahead: str = "",
    **extra,
) -> dict:
    today = timezone.localdate()
    bills = unpaid_bills(account, today) if account else []
    if chosen is None:  # a fresh window: every bill ticked
        chosen = [b.pk for b in bills]
    ticked = set(chosen)
    # Row texts made once here: a window may list hundreds of bills, and date filters in the
    # template cost more than the database does (bench/bench_window.py).
    for bill in bills:
        bill.settled = bill.allocated + bill.adjusted
        bill.with_late_fee = bill.outstanding + bill.late_fee.due
        bill.period_text = period_text(bill)
        bill.is_overdue = bill.due_date < today
        bill.is_ticked = bill.pk in ticked
    payer = account.payer if account else None
    rows = rows or [LineInput()]
    if form is None:  # a fresh window: the first line asks for all of it
        rows[0].amount = str(quote(bills, chosen, [], None).due) if bills else ""
        form = PaymentForm(initial={"idempotency_key": uuid.uuid4().hex, "business_date": today})
    tendered = form.data.get("tendered") if form.is_bound else None
    priced = ahead_quote(account, ahead, today)
    return {
        # After this cashier's 日结 of today the window says so first and takes no money (issue 17).
        "day_closed": closing_of(room.project_id, request.user.pk, today),
        "room": room,
        "account": account,
        "accounts": accounts,
        "payer": payer,
        "phones": list(payer.phones.all()) if payer else [],
        "show_phones": can_see_phones(request.user, room.project_id),
        "bills": bills,
        "chosen": ticked,
        "prepaid": prepaid_available(account, today) if account else money(0),
        "auto_consume": billing_settings(room.project_id).auto_consume_prepaid,
        "rows": rows,
        "methods": PaymentMethod.choices,
        "methods_with_reference": sorted(str(m) for m in METHODS_WITH_REFERENCE),
        "quote": quote(bills, chosen, rows, tendered, priced),
        "form": form,
        # 预交 (收银台.md): what this household may pay ahead, and the cashier's choice.
        "ahead_choices": window_ahead_choices(account, today) if account else [],
        "ahead": ahead,
        "errors": {},
        # Panels apps above the ledger add to the window (payment codes: wuye.payments).
        "window_panels": hooks.panels("WUYE_WINDOW_PANELS"),
        **extra,
    }


@login_required
@require_GET
def window_room(request, room_id: int):
    room = _room_in_scope(request, room_id)
    account, accounts = _accounts(room, request.GET.get("account"))
    return render(
        request, "ledger/window_room.html", _window_context(request, room, account, accounts)
    )


def _posted_date(text: str | None) -> datetime.date:
    """The form's 收款日期 when it is a valid day up to today, else today."""
    today = timezone.localdate()
    try:
        day = date_param(text, default=today)
    except ValidationFailed:
        return today
    return min(day, today)


@login_required
@require_POST
def window_quote(request, room_id: int):
    """The server's running total of what is selected (htmx: replaces the summary box)."""
    room = _room_in_scope(request, room_id)
    account, _ = _accounts(room, request.POST.get("account"))
    on = _posted_date(request.POST.get("business_date"))
    bills = unpaid_bills(account, on) if account else []
    figures = quote(
        bills,
        chosen_ids(request.POST),
        lines_from_post(request.POST),
        request.POST.get("tendered"),
        ahead_quote(account, request.POST.get("ahead", ""), timezone.localdate()),
    )
    closed = closing_of(room.project_id, request.user.pk, timezone.localdate())
    return render(request, "ledger/window_summary.html", {"quote": figures, "day_closed": closed})


@login_required
@require_POST
def window_pay(request, room_id: int):
    room = _room_in_scope(request, room_id)
    account, accounts = _accounts(room, request.POST.get("account"))
    form = PaymentForm(request.POST)
    rows = lines_from_post(request.POST)
    chosen = chosen_ids(request.POST)
    ahead = request.POST.get("ahead", "").strip()
    context = {"form": form, "rows": rows, "chosen": chosen, "ahead": ahead}

    def again(status: int = 400, **more):
        page = _window_context(request, room, account, accounts, **context, **more)
        return render(request, "ledger/window_room.html", page, status=status)

    if not form.is_valid():
        return again()
    key = form.cleaned_data["idempotency_key"]
    done = payment_with_key(key, account) if account and key else None
    if done is not None:  # the same form sent twice (a double click, a reload): paid once
        return redirect("ledger:window_done", done.pk)
    # Quoted as of the payment's date, as payment_record charges it (the late fee's day count).
    on = min(form.cleaned_data["business_date"], timezone.localdate())
    bills = unpaid_bills(account, on) if account else []
    priced = ahead_quote(account, ahead, timezone.localdate()) if ahead else None
    if priced is not None and priced.result is None:
        return again(errors={"ahead": priced.error})
    if priced is not None and on < timezone.localdate():
        return again(
            errors={"ahead": "补录以前日期的收款不能同时办理预交：预交按今天的收费标准和优惠出账"}
        )
    figures = quote(bills, chosen, rows, form.cleaned_data["tendered"], priced)
    cash = figures.cash
    if form.cleaned_data["tendered"] is not None and form.cleaned_data["tendered"] < cash:
        form.add_error("tendered", f"实收现金少于现金收款金额 {cash} 元")
        return again()
    # An overpayment is only taken once the cashier has seen where the surplus goes (预存款).
    if (
        figures.surplus > 0
        and not figures.invalid_amount
        and (chosen or not bills)
        and form.cleaned_data["confirm_surplus"] != str(figures.surplus)
    ):
        return again(status=200, confirm_surplus=figures.surplus)
    try:
        backdate_approver = None
        if form.cleaned_data["business_date"] < timezone.localdate():
            # 补录以前日期: the supervisor types their account and password (主管授权).
            backdate_approver = approver_from_form(
                request=request,
                user=request.user,
                project=room.project_id,
                username=form.cleaned_data["approver_username"],
                password=form.cleaned_data["approver_password"],
                roles=roles.PAYMENT_APPROVER_ROLES,
                rule="补录以前日期的收款须由另一人授权。",
            )
        if account is None:
            from wuye.billing.accounts import account_for

            account = account_for(room, user=request.user)
        if priced is not None:
            payment = payment_with_ahead(
                user=request.user,
                account=account,
                ahead=priced.choice,
                expected=figures.ahead,
                lines=service_lines(rows),
                bill_ids=chosen,
                idempotency_key=form.cleaned_data["idempotency_key"] or None,
                note=form.cleaned_data["note"],
            )
        else:
            payment = payment_record(
                user=request.user,
                account=account,
                lines=service_lines(rows),
                bill_ids=chosen if (chosen or bills) else None,
                business_date=form.cleaned_data["business_date"],
                idempotency_key=form.cleaned_data["idempotency_key"] or None,
                note=form.cleaned_data["note"],
                cashier_entry=True,
                backdate_approved_by=backdate_approver,
                backdate_reason=form.cleaned_data["backdate_reason"],
            )
    except NotInScope as exc:
        raise Http404(exc.message) from exc
    except WuyeError as exc:
        return again(errors=_place_error(exc, rows, form))
    query = {}
    if form.cleaned_data["tendered"] is not None:
        query["tendered"] = str(form.cleaned_data["tendered"])
    url = reverse("ledger:window_done", args=[payment.pk])
    return redirect(url + (f"?{urlencode(query)}" if query else ""))


def _place_error(exc: WuyeError, rows: list[LineInput], form: PaymentForm) -> dict[str, str]:
    """Puts the service's message next to the field it names (a payment line's input, the date, the
    bills); what names no field on the page is shown beside the pay button (``general``)."""
    name = exc.field or ""
    if name.startswith("lines[") and "]." in name:
        index, _, part = name[len("lines[") :].partition("].")
        if index.isdigit() and int(index) < len(rows):
            rows[int(index)].errors[part] = exc.message
            return {}
    if name == "approved_by":
        name = "approver_username"
    if name in {
        "business_date",
        "note",
        "backdate_reason",
        "approver_username",
        "approver_password",
    }:
        form.add_error(name, exc.message)
        return {}
    if name in {"months", "fee_item"}:  # billing's pay_ahead: the window's 预交 choice
        name = "ahead"
    if name in {"bill_ids", "lines", "ahead"}:
        return {name: exc.message}
    return {"general": exc.message}


@login_required
@require_GET
def window_done(request, payment_id: int):
    """After paying: receipt number, allocations, change, print and invoice buttons, next household."""
    payment = _payment_in_scope(request, payment_id)
    receipt = receipt_data(payment)
    tendered = parse_amount(request.GET.get("tendered"))
    cash = sum(
        (line.amount for line in payment.lines.all() if line.method == PaymentMethod.CASH),
        money(0),
    )
    change = money(tendered - cash) if tendered is not None and cash and tendered >= cash else None
    return render(
        request,
        "ledger/window_done.html",
        {
            "payment": payment,
            "receipt": receipt,
            "tendered": tendered,
            "cash": cash,
            "change": change,
        },
    )


# --- payments, receipts, invoice requests ------------------------------------------------------


def _payment_page(
    request, payment: Payment, invoice_form=None, invoice_error: str = "", status=200
):
    return render(
        request,
        "ledger/payment.html",
        {
            "payment": payment,
            "reversal": getattr(payment, "reversal", None) if _has_reversal(payment) else None,
            "receipt": receipt_data(payment),
            "invoice_requests": payment.invoice_requests.select_related("requested_by").order_by(
                "id"
            ),
            "invoice_form": invoice_form
            or InvoiceRequestForm(initial={"title": payment.account.payer.name}),
            "invoice_error": invoice_error,
            "can_collect": role_in(request.user, payment.project_id) in roles.COLLECTOR_ROLES,
        },
        status=status,
    )


def _has_reversal(payment: Payment) -> bool:
    try:
        return payment.reversal is not None
    except Payment.reversal.RelatedObjectDoesNotExist:
        return False


@login_required
@require_GET
def payment_page(request, payment_id: int):
    return _payment_page(request, _payment_in_scope(request, payment_id))


def _receipt_response(payment: Payment, data, paper: str, name: str) -> HttpResponse:
    response = HttpResponse(draw_receipt(data, paper=paper), content_type="application/pdf")
    response["Content-Disposition"] = (
        f'inline; filename="receipt-{payment.receipt_no:08d}{name}-{paper}.pdf"'
    )
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def receipt_pdf(request, payment_id: int):
    """The receipt to look at: nothing is recorded, so opening the link (twice, or from the history)
    never uses up the original; the PDF is marked 查看件 so it cannot pass for a receipt."""
    payment = _payment_in_scope(request, payment_id)
    paper = request.GET.get("paper", "a4")
    if paper not in PAPERS:
        return HttpResponse(
            "纸张须为 a4 或 roll", status=400, content_type="text/plain; charset=utf-8"
        )
    data = receipt_data(payment, is_view=True)
    return _receipt_response(payment, data, paper, "-view")


@login_required
@require_POST
def receipt_print(request, payment_id: int):
    """Printing is an explicit action (a button, POST): each is a ReceiptPrint; the first is the
    original, every later one is marked 补打, so a copy can never pass for a second original."""
    payment = _payment_in_scope(request, payment_id)
    paper = request.POST.get("paper", "a4")
    try:
        printed = receipt_print_record(user=request.user, payment=payment, paper=paper)
    except NotInScope as exc:
        raise Http404(exc.message) from exc
    except WuyeError as exc:
        if exc.field == "user":
            raise PermissionDenied(exc.message) from exc
        return HttpResponse(exc.message, status=400, content_type="text/plain; charset=utf-8")
    data = receipt_data(payment, is_reprint=printed.is_reprint)
    return _receipt_response(payment, data, paper, "-copy" if printed.is_reprint else "")


@login_required
@require_POST
def invoice_request_create(request, payment_id: int):
    payment = _payment_in_scope(request, payment_id)
    form = InvoiceRequestForm(request.POST)
    if not form.is_valid():
        return _payment_page(request, payment, invoice_form=form, status=400)
    try:
        receipts.invoice_request_create(user=request.user, payment=payment, **form.cleaned_data)
    except NotInScope as exc:
        raise Http404(exc.message) from exc
    except WuyeError as exc:
        if exc.field in form.fields:
            form.add_error(exc.field, exc.message)
            return _payment_page(request, payment, invoice_form=form, status=400)
        return _payment_page(
            request, payment, invoice_form=form, invoice_error=exc.message, status=400
        )
    messages.success(request, "开票申请已登记，财务将在开票平台开具后标记“已开票”。")
    return redirect(reverse("ledger:payment", args=[payment.pk]) + "#invoice")


@login_required
@require_GET
def invoice_requests(request):
    project = request.project
    if not project:
        raise Http404("没有可用的项目")
    role = role_in(request.user, project)
    if role not in roles.COLLECTOR_ROLES:
        raise PermissionDenied("您的角色不能查看开票申请。")
    status = request.GET.get("status", InvoiceStatus.REQUESTED)
    rows = (
        InvoiceRequest.objects.filter(payment__project=project)
        .select_related("payment__account__room", "requested_by")
        .order_by("-created_at", "-id")
    )
    if status in InvoiceStatus.values:
        rows = rows.filter(status=status)
    else:
        status = ""
    return render(
        request,
        "ledger/invoice_requests.html",
        {
            "page": Paginator(rows, 50).get_page(request.GET.get("page")),
            "status": status,
            "statuses": InvoiceStatus.choices,
            "can_issue": role in roles.INVOICE_ISSUER_ROLES,
            "issue_form": InvoiceIssueForm(),
        },
    )


@login_required
@require_POST
def invoice_request_issue(request, request_id: int):
    invoice = get_object_or_404(
        InvoiceRequest.objects.select_related("payment"),
        pk=request_id,
        payment__project_id__in=project_ids_for(request.user),
    )
    form = InvoiceIssueForm(request.POST)
    form.is_valid()
    try:
        invoice_request_mark_issued(
            user=request.user,
            invoice_request=invoice,
            invoice_no=form.cleaned_data.get("invoice_no", ""),
        )
        messages.success(request, f"“{invoice.title}”已标记为已开票")
    except NotInScope as exc:
        raise Http404(exc.message) from exc
    except WuyeError as exc:
        messages.error(request, exc.message)
    return redirect(reverse("ledger:invoice_requests") + f"?status={request.GET.get('status', '')}")


urlpatterns = [
    path("window/", window, name="window"),
    path("window/search/", window_search, name="window_search"),
    path("window/rooms/<int:room_id>/", window_room, name="window_room"),
    path("window/rooms/<int:room_id>/quote/", window_quote, name="window_quote"),
    path("window/rooms/<int:room_id>/pay/", window_pay, name="window_pay"),
    path("window/payments/<int:payment_id>/done/", window_done, name="window_done"),
    path("payments/<int:payment_id>/", payment_page, name="payment"),
    path("payments/<int:payment_id>/receipt.pdf", receipt_pdf, name="receipt_pdf"),
    path("payments/<int:payment_id>/receipt/print", receipt_print, name="receipt_print"),
    path(
        "payments/<int:payment_id>/invoice-requests/",
        invoice_request_create,
        name="invoice_request_create",
    ),
    path("invoice-requests/", invoice_requests, name="invoice_requests"),
    path(
        "invoice-requests/<int:request_id>/issue/",
        invoice_request_issue,
        name="invoice_request_issue",
    ),
]
