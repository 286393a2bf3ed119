"""Back-office ledger pages: reversals (冲红) and refunds with a supervisor's approval, the cashier's
day (日结), payment notices (缴费通知单), the household's ledger and statements (对账单).

Views check scope and role and render; every write goes through ``ledger.services`` or
``billing.services`` and every figure comes from ``ledger.selectors``. An object outside the user's
projects is a 404; a role that may not do the thing is a 403.
"""

from __future__ import annotations

import datetime
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from wuye.billing import adjustments
from wuye.billing.enums import AdjustmentKind
from wuye.billing.models import Account, Bill
from wuye.billing.selectors import accounts_of_room, with_balance
from wuye.core import roles
from wuye.core.approvals import approver_of_form, roles_text
from wuye.core.audit import audit_record
from wuye.core.errors import NotInScope, WuyeError
from wuye.core.models import Project, User
from wuye.core.money import ZERO
from wuye.core.roles import Role
from wuye.core.scope import access_role, project_ids_for, role_in
from wuye.ledger.exporting import StatementHeader, statement_xlsx
from wuye.ledger.models import CashierClosing, Payment, PaymentReversal
from wuye.ledger.office_forms import (
    RULE_TEXT,
    ApprovalForm,
    BillReverseForm,
    PaymentReverseForm,
    RefundForm,
    parse_date,
    parse_month,
    place_error,
    statement_range,
)
from wuye.ledger.pdf import StatementData, notices_pdf, statement_pdf
from wuye.ledger.pdf import StatementLine as PdfStatementLine
from wuye.ledger.selectors.closing import cashier_day, closings_in, day_cashiers, unclosed_days
from wuye.ledger.selectors.notices import notices_for
from wuye.ledger.selectors.payments import payment_detail, payments_of_account
from wuye.ledger.selectors.prepaid import prepaid_available, prepaid_balance, prepaid_movements
from wuye.ledger.selectors.statement import statement as account_statement
from wuye.ledger.selectors.window import account_of_room, account_position, unpaid_bills
from wuye.ledger.services import reversals
from wuye.ledger.services.closing import cashier_close
from wuye.registry.models import Building, Room, Unit

# --- helpers -------------------------------------------------------------------------------------


def _require(request, project_id: int, allowed: frozenset[Role], doing: str) -> Role:
    return access_role(request.user, project_id, allowed, doing)


def _current_project(request) -> Project:
    if not request.project:
        raise Http404("没有可用的项目")
    return request.project


def _approver(request, project_id: int, form: ApprovalForm, allowed: frozenset[Role]) -> User:
    return approver_of_form(
        request=request, project=project_id, form=form, roles=allowed, rule=RULE_TEXT
    )


def _is_reversed(payment: Payment) -> bool:
    try:
        return payment.reversal is not None
    except PaymentReversal.DoesNotExist:
        return False


def _account_in_scope(request, account_id: int) -> Account:
    account = (
        Account.objects.filter(pk=account_id, project_id__in=project_ids_for(request.user))
        .select_related("project__company", "room", "payer")
        .first()
    )
    if account is None:
        raise Http404("缴费账户不存在或不在您的项目范围内")
    return account


# --- 冲红 of a payment -----------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def payment_reverse(request, payment_id: int):
    payment = payment_detail(payment_id, project_ids_for(request.user))
    if payment is None:
        raise Http404("收款不存在或不在您的项目范围内")
    _require(request, payment.project_id, roles.COLLECTOR_ROLES, "办理冲红")
    form = PaymentReverseForm(request.POST or None)
    error = ""
    if request.method == "POST" and not _is_reversed(payment) and form.is_valid():
        try:
            approver = _approver(request, payment.project_id, form, roles.PAYMENT_APPROVER_ROLES)
            reversals.payment_reverse(
                user=request.user,
                payment=payment,
                reason=form.cleaned_data["reason"],
                approved_by=approver,
                business_date=form.cleaned_data["business_date"],
            )
        except NotInScope as exc:
            raise Http404(exc.message) from exc
        except WuyeError as exc:
            error = place_error(form, exc)
        else:
            messages.success(
                request,
                f"收据 No.{payment.receipt_no:08d} 已冲红：所冲账单恢复为未缴，"
                "预存款已相应调整。请收回原收据。",
            )
            return redirect("ledger:payment", payment.pk)
    return render(
        request,
        "ledger/office_reverse.html",
        {
            "payment": payment,
            "is_reversed": _is_reversed(payment),
            "form": form,
            "error": error,
            "approvers": roles_text(roles.PAYMENT_APPROVER_ROLES),
            "self_approves": role_in(request.user, payment.project_id)
            in roles.PAYMENT_APPROVER_ROLES,
            "rule": RULE_TEXT,
        },
        status=400 if form.errors or error else 200,
    )


# --- 冲红 of a bill --------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def bill_reverse(request, bill_id: int):
    bill = (
        with_balance(Bill.objects.filter(pk=bill_id, project_id__in=project_ids_for(request.user)))
        .select_related("fee_item", "account__payer", "room", "late_fee_for")
        .first()
    )
    if bill is None:
        raise Http404("账单不存在或不在您的项目范围内")
    _require(request, bill.project_id, roles.COLLECTOR_ROLES, "办理账单冲红")
    form = BillReverseForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            approver = _approver(request, bill.project_id, form, roles.BILL_APPROVER_ROLES)
            adjustments.bill_reverse(
                user=request.user,
                bill=bill,
                reason=form.cleaned_data["reason"],
                approved_by=approver,
            )
        except NotInScope as exc:
            raise Http404(exc.message) from exc
        except WuyeError as exc:
            error = place_error(form, exc)
        else:
            messages.success(
                request, f"账单“{bill.fee_item.name} {bill.period_start:%Y-%m}”已冲红。"
            )
            return redirect(reverse("registry:household", args=[bill.room_id]) + "#ledger")
    paid_by = (
        bill.allocations.filter(payment__isnull=False, amount__gt=0)
        .select_related("payment")
        .order_by("id")
    )
    return render(
        request,
        "ledger/office_bill_reverse.html",
        {
            "bill": bill,
            "reversal": bill.adjustments.filter(kind=AdjustmentKind.REVERSAL)
            .select_related("approved_by")
            .first(),
            "paid_by": paid_by,
            "form": form,
            "error": error,
            "approvers": roles_text(roles.BILL_APPROVER_ROLES),
            "self_approves": role_in(request.user, bill.project_id) in roles.BILL_APPROVER_ROLES,
            "rule": RULE_TEXT,
        },
        status=400 if form.errors or error else 200,
    )


# --- 预存款退款 ----------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def prepaid_refund(request, account_id: int):
    account = _account_in_scope(request, account_id)
    _require(request, account.project_id, roles.COLLECTOR_ROLES, "办理退款")
    form = RefundForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            approver = _approver(request, account.project_id, form, roles.PAYMENT_APPROVER_ROLES)
            refund = reversals.prepaid_refund(
                user=request.user,
                account=account,
                amount=form.cleaned_data["amount"],
                method=form.cleaned_data["method"],
                reason=form.cleaned_data["reason"],
                approved_by=approver,
                business_date=form.cleaned_data["business_date"],
            )
        except NotInScope as exc:
            raise Http404(exc.message) from exc
        except WuyeError as exc:
            error = place_error(form, exc)
        else:
            messages.success(
                request,
                f"已退预存款 {refund.amount} 元（{refund.get_method_display()}），"
                "计入您今天的日结。",
            )
            return redirect(reverse("registry:household", args=[account.room_id]) + "#ledger")
    today = timezone.localdate()
    return render(
        request,
        "ledger/office_refund.html",
        {
            "account": account,
            "balance": prepaid_balance(account),
            "available": prepaid_available(account, today),
            "form": form,
            "error": error,
            "approvers": roles_text(roles.PAYMENT_APPROVER_ROLES),
            "self_approves": role_in(request.user, account.project_id)
            in roles.PAYMENT_APPROVER_ROLES,
            "rule": RULE_TEXT,
        },
        status=400 if form.errors or error else 200,
    )


# --- 日结 ------------------------------------------------------------------------------------------


def _closing_subject(request, project: Project, params) -> tuple[User, datetime.date, Role]:
    """The cashier and day the closing page is about: one's own, or — for supervisors and finance —
    any cashier of the project."""
    role = _require(request, project.pk, roles.COLLECTOR_ROLES, "查看日结")
    day = parse_date(params.get("date"), timezone.localdate())
    wanted = params.get("cashier")
    cashier = request.user
    if wanted and str(wanted) != str(request.user.pk):
        if role not in roles.CLOSING_OVERSEER_ROLES:
            raise PermissionDenied(
                "只有客服主管、项目经理、公司管理员和财务可以查看其他收费员的日结。"
            )
        try:
            cashier = User.objects.get(pk=int(wanted))
        except (User.DoesNotExist, ValueError) as exc:
            raise Http404("没有这个收费员") from exc
    return cashier, day, role


def _closing_query(cashier: User, day: datetime.date) -> str:
    return urlencode({"cashier": cashier.pk, "date": day.isoformat()})


@login_required
@require_GET
def closing(request):
    project = _current_project(request)
    cashier, day, role = _closing_subject(request, project, request.GET)
    figures = cashier_day(project, cashier, day)
    cashiers = day_cashiers(project, day) if role in roles.CLOSING_OVERSEER_ROLES else []
    return render(
        request,
        "ledger/closing.html",
        {
            "project": project,
            "cashier": cashier,
            "day": day,
            "today": timezone.localdate(),
            "figures": figures,
            "is_self": cashier.pk == request.user.pk,
            "oversees": role in roles.CLOSING_OVERSEER_ROLES,
            "can_close_others": role in roles.PAYMENT_APPROVER_ROLES,
            "cashiers": cashiers,
            "closed_ids": set(
                CashierClosing.objects.filter(project=project, business_date=day).values_list(
                    "cashier_id", flat=True
                )
            )
            if cashiers
            else set(),
            "query": _closing_query(cashier, day),
            # Earlier days with entries but no 日结: the overseers see everyone's, a cashier their own.
            "unclosed": unclosed_days(
                project,
                before=timezone.localdate(),
                cashier_id=None if role in roles.CLOSING_OVERSEER_ROLES else request.user.pk,
            ),
        },
    )


@login_required
@require_POST
def closing_close(request):
    project = _current_project(request)
    cashier, day, _ = _closing_subject(request, project, request.POST)
    try:
        cashier_close(
            user=request.user,
            project=project,
            business_date=day,
            cashier=cashier if cashier.pk != request.user.pk else None,
        )
    except NotInScope as exc:
        raise Http404(exc.message) from exc
    except WuyeError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            f"{cashier} {day:%Y-%m-%d} 已日结。当天的收款、冲红和退款已锁定；请打印日结单，连同现金交财务。",
        )
    return redirect(reverse("ledger:closing") + "?" + _closing_query(cashier, day))


@login_required
@require_GET
def closing_sheet(request):
    """The closing sheet to print and hand to finance with the cash (a print page, no navigation)."""
    project = _current_project(request)
    cashier, day, _ = _closing_subject(request, project, request.GET)
    return render(
        request,
        "ledger/closing_sheet.html",
        {
            "project": project,
            "cashier": cashier,
            "day": day,
            "figures": cashier_day(project, cashier, day),
            "printed_at": timezone.localtime(),
        },
    )


@login_required
@require_GET
def closings(request):
    """Closings of the project for finance: who closed which day, with the totals handed over."""
    project = _current_project(request)
    _require(request, project.pk, roles.CLOSING_OVERSEER_ROLES, "查看日结记录")
    today = timezone.localdate()
    date_to = parse_date(request.GET.get("to"), today)
    date_from = parse_date(request.GET.get("from"), date_to - datetime.timedelta(days=30))
    cashier_id = request.GET.get("cashier") or ""
    rows = closings_in(
        project, date_from, date_to, int(cashier_id) if cashier_id.isdigit() else None
    )
    return render(
        request,
        "ledger/closings.html",
        {
            "page": Paginator(rows, 50).get_page(request.GET.get("page")),
            "date_from": date_from,
            "date_to": date_to,
            "cashier_id": cashier_id,
            "cashiers": User.objects.filter(
                pk__in=CashierClosing.objects.filter(project=project).values("cashier_id")
            ).order_by("username"),
        },
    )


# --- 缴费通知单 ------------------------------------------------------------------------------------


@login_required
@require_GET
def notices(request):
    """Pick a building (and a unit) and a date; the page counts the households that owe and offers
    the PDF (``?pdf=1``): one notice per household, each on its own page."""
    project = _current_project(request)
    _require(request, project.pk, roles.COLLECTOR_ROLES, "打印缴费通知单")
    buildings = list(Building.objects.filter(project=project).prefetch_related("units"))
    building = unit = None
    building_id = request.GET.get("building") or ""
    if building_id:
        building = next((b for b in buildings if str(b.pk) == building_id), None)
        if building is None:
            raise Http404("楼栋不存在或不在当前项目")
        unit_id = request.GET.get("unit") or ""
        if unit_id:
            unit = Unit.objects.filter(
                pk=unit_id if unit_id.isdigit() else 0, building=building
            ).first()
            if unit is None:
                raise Http404("单元不属于该楼栋")
    today = timezone.localdate()
    as_of = parse_date(request.GET.get("as_of"), today)
    if as_of > today:
        as_of = today
    period = request.GET.get("period", "")
    period_to = parse_month(period)
    found = None
    if building is not None:
        found = notices_for(
            project,
            building_id=building.pk,
            unit_id=unit.pk if unit else None,
            as_of=as_of,
            period_to=period_to,
        )
        if request.GET.get("pdf"):
            audit_record(
                user=request.user,
                action="打印缴费通知单",
                obj=unit or building,
                project=project,
                changes={
                    "households": len(found),
                    "as_of": as_of,
                    "period_to": period_to,
                },
            )
            response = HttpResponse(notices_pdf(found), content_type="application/pdf")
            name = f"notices-{building.code}{'-' + unit.code if unit else ''}-{as_of:%Y%m%d}.pdf"
            response["Content-Disposition"] = f'inline; filename="{name}"'
            response["Cache-Control"] = "no-store"
            return response
    return render(
        request,
        "ledger/notices.html",
        {
            "buildings": buildings,
            "building": building,
            "unit": unit,
            "as_of": as_of,
            "period": period if period_to else "",
            "notices": found,
            "total": sum((n.total for n in found or []), ZERO),
            "late_fee": sum((n.late_fee for n in found or []), ZERO),
            "query": request.GET.urlencode(),
        },
    )


# --- the household's ledger (on the household page) --------------------------------------------


def _room_in_scope(request, room_id: int) -> Room:
    room = (
        Room.objects.filter(pk=room_id, project_id__in=project_ids_for(request.user))
        .select_related("project")
        .first()
    )
    if room is None:
        raise Http404("房屋不存在或不在您的项目范围内")
    return room


@login_required
@require_GET
def household_ledger(request, room_id: int):
    """The ledger section of the household page (loaded by htmx): what the household owes and what
    is overdue, its unpaid bills, recent payments and prepaid movements, and what it owed on any date."""
    room = _room_in_scope(request, room_id)
    role = role_in(request.user, room.project_id)
    accounts = accounts_of_room(room)
    wanted = request.GET.get("account")
    account = None
    if wanted:
        account = next((a for a in accounts if str(a.pk) == wanted), None)
        if account is None:
            raise Http404("该缴费账户不属于这间房")
    elif accounts:
        current = account_of_room(room) if len(accounts) > 1 else None
        account = next((a for a in accounts if current and a.pk == current.pk), accounts[0])
    today = timezone.localdate()
    as_of = parse_date(request.GET.get("as_of"))
    if as_of is not None and as_of >= today:
        as_of = None  # today's figures are the page's own
    # The bill list follows the chosen date: a bill paid later shows unpaid as of that date.
    list_day = as_of or today
    context = {
        "room": room,
        "accounts": accounts,
        "account": account,
        "today": today,
        "list_day": list_day,
        "can_collect": role in roles.COLLECTOR_ROLES,
        "can_reverse_bill": role in roles.BILL_APPROVER_ROLES,
        "can_refund": role in roles.COLLECTOR_ROLES,
    }
    if account is not None:
        bills = unpaid_bills(account, list_day)
        for bill in bills:
            bill.settled = bill.allocated + bill.adjusted
            bill.is_overdue = bill.due_date < list_day
        context.update(
            position=account_position(account, today),
            bills=bills,
            payments=payments_of_account(account, limit=10),
            movements=prepaid_movements(account, limit=10),
            as_of=as_of,
            position_then=account_position(account, as_of) if as_of else None,
            year_start=today.replace(month=1, day=1),
        )
    return render(request, "ledger/office_household_ledger.html", context)


# --- 对账单 ----------------------------------------------------------------------------------------


def _statement(request, account_id: int):
    account = _account_in_scope(request, account_id)
    date_from, date_to = statement_range(request.GET)
    return account, account_statement(account, date_from, date_to)


@login_required
@require_GET
def statement(request, account_id: int):
    account, data = _statement(request, account_id)
    return render(
        request,
        "ledger/statement.html",
        {
            "account": account,
            "s": data,
            "query": urlencode(
                {"from": data.date_from.isoformat(), "to": data.date_to.isoformat()}
            ),
        },
    )


def _prepaid_note(line) -> str:
    if not line.prepaid_change:
        return ""
    sign = "+" if line.prepaid_change > 0 else ""
    return f"（预存款 {sign}{line.prepaid_change}）"


@login_required
@require_GET
def statement_pdf_view(request, account_id: int):
    account, data = _statement(request, account_id)
    pdf = statement_pdf(
        StatementData(
            company=account.project.company.name,
            project=account.project.name,
            room_code=account.room.code,
            payer=account.payer.name,
            date_from=data.date_from,
            date_to=data.date_to,
            opening=data.opening_balance,
            lines=[
                PdfStatementLine(
                    date=line.date,
                    description=line.text + _prepaid_note(line),
                    charge=line.charge or None,
                    credit=line.credit or None,
                    balance=line.balance,
                )
                for line in data.lines
            ],
            closing=data.closing_balance,
            prepaid_balance=data.closing_prepaid,
        )
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    name = f"statement-{account.room.code}-{data.date_from:%Y%m%d}-{data.date_to:%Y%m%d}.pdf"
    response["Content-Disposition"] = f'inline; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def statement_xlsx_view(request, account_id: int):
    account, data = _statement(request, account_id)
    content = statement_xlsx(
        data,
        StatementHeader(
            company=account.project.company.name,
            project=account.project.name,
            room_code=account.room.code,
            payer=account.payer.name,
        ),
    )
    response = HttpResponse(
        content,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    name = f"statement-{account.room.code}-{data.date_from:%Y%m%d}-{data.date_to:%Y%m%d}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


urlpatterns = [
    path("payments/<int:payment_id>/reverse/", payment_reverse, name="payment_reverse"),
    path("bills/<int:bill_id>/reverse/", bill_reverse, name="bill_reverse"),
    path("accounts/<int:account_id>/refund/", prepaid_refund, name="prepaid_refund"),
    path("accounts/<int:account_id>/statement/", statement, name="statement"),
    path("accounts/<int:account_id>/statement.pdf", statement_pdf_view, name="statement_pdf"),
    path("accounts/<int:account_id>/statement.xlsx", statement_xlsx_view, name="statement_xlsx"),
    path("rooms/<int:room_id>/ledger/", household_ledger, name="household_ledger"),
    path("closing/", closing, name="closing"),
    path("closing/close/", closing_close, name="closing_close"),
    path("closing/sheet/", closing_sheet, name="closing_sheet"),
    path("closings/", closings, name="closings"),
    path("notices/", notices, name="notices"),
]
