"""Billing pages: fee items and standards, meter readings and shared charges, billing runs with a
progress bar, late fees, LPR and pay-ahead rules, reductions of a household's bills, project settings.

Views check the role and the project, parse a form and call one service; a refusal comes back as a
``ValidationFailed`` naming its field, and is shown next to that field.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from wuye.billing import adjustments, fee_settings, pay_ahead, selectors, services
from wuye.billing import forms as f
from wuye.billing import readings as billing_readings
from wuye.billing import runs as billing_runs
from wuye.billing.enums import ChargeMethod, RunStatus
from wuye.billing.models import (
    DAYS_PER_YEAR,
    Bill,
    FeeItem,
    FeeStandard,
    LateFeeRule,
    LprRate,
    PayAheadRule,
    SharedCharge,
)
from wuye.core import roles
from wuye.core.approvals import approver_of_form
from wuye.core.errors import ValidationFailed, WuyeError
from wuye.core.models import Project, User
from wuye.core.money import money
from wuye.core.scope import project_ids_for, role_in
from wuye.registry.models import Building, Room

# A run page polls its progress this often while the task works.
POLL_SECONDS = 1


# --- helpers -------------------------------------------------------------------------------------


def _project(request, allowed=roles.BILLING_RUN_ROLES) -> Project:
    project = request.project
    if not project:
        raise Http404("没有可用的项目")
    if role_in(request.user, project) not in allowed:
        raise PermissionDenied("您的角色不能使用收费配置与计费功能。")
    return project


def show_error(form: forms.Form, exc: WuyeError, renamed: dict[str, str] | None = None) -> None:
    """A service's refusal shown next to the field it names (or above the form)."""
    field = (renamed or {}).get(exc.field, exc.field)
    if field in ("approved_by", "approver_password") and "approver_username" in form.fields:
        field = "approver_password" if exc.field == "approver_password" else "approver_username"
    form.add_error(field if field in form.fields else None, exc.message)


def approver_of(request, project: Project, form: f.ApproverFields) -> User:
    """主管授权 by account and password typed on the form; a manager may approve their own action."""
    return approver_of_form(
        request=request, project=project, form=form, roles=roles.BILL_APPROVER_ROLES
    )


def _back(request, name: str, *args, anchor: str = "") -> object:
    return redirect(reverse(f"billing:{name}", args=args) + (f"#{anchor}" if anchor else ""))


# --- fee items and standards ---------------------------------------------------------------------


@login_required
def fee_items(request):
    project = _project(request)
    form = f.FeeItemForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            item = fee_settings.fee_item_create(
                user=request.user, project=project, **form.cleaned_data
            )
        except ValidationFailed as exc:
            show_error(form, exc)
        else:
            messages.success(request, f"已新增收费项目“{item.name}”，请为它添加收费标准。")
            return _back(request, "fee_item", item.pk)
    return render(
        request,
        "billing/fee_items.html",
        {
            "items": selectors.fee_items_for(project),
            "form": form,
            "today": timezone.localdate(),
            "open_form": request.method == "POST",
        },
    )


@login_required
def fee_item(request, item_id: int):
    project = _project(request)
    item = get_object_or_404(FeeItem, pk=item_id, project=project)
    form = f.FeeItemForm(request.POST or None, instance=item, editing=True)
    if request.method == "POST" and form.is_valid():
        changes = {k: v for k, v in form.cleaned_data.items() if k in fee_settings.FEE_ITEM_FIELDS}
        try:
            fee_settings.fee_item_update(user=request.user, fee_item=item, **changes)
        except ValidationFailed as exc:
            show_error(form, exc)
        else:
            messages.success(request, "收费项目已保存。")
            return _back(request, "fee_item", item.pk)
    return _fee_item_page(request, item, form=form)


def _fee_item_page(request, item: FeeItem, *, form=None, standard_form=None, status=200):
    return render(
        request,
        "billing/fee_item.html",
        {
            "item": item,
            "form": form or f.FeeItemForm(instance=item, editing=True),
            "standards": item.standards.order_by("room_use", "valid_from"),
            "standard_form": standard_form or f.FeeStandardForm(),
            "end_form": f.StandardEndForm(),
            "today": timezone.localdate(),
        },
        status=status,
    )


@login_required
@require_POST
def standard_add(request, item_id: int):
    project = _project(request)
    item = get_object_or_404(FeeItem, pk=item_id, project=project)
    form = f.FeeStandardForm(request.POST)
    if form.is_valid():
        try:
            fee_settings.fee_standard_add(user=request.user, fee_item=item, **form.cleaned_data)
        except ValidationFailed as exc:
            show_error(form, exc)
        else:
            messages.success(request, "收费标准已添加。")
            return _back(request, "fee_item", item.pk, anchor="standards")
    return _fee_item_page(request, item, standard_form=form, status=400)


@login_required
@require_POST
def standard_end(request, standard_id: int):
    project = _project(request)
    standard = get_object_or_404(FeeStandard, pk=standard_id, fee_item__project=project)
    form = f.StandardEndForm(request.POST)
    if not form.is_valid():
        messages.error(request, "最后一天：请填写日期")
    else:
        try:
            fee_settings.fee_standard_end(
                user=request.user, standard=standard, valid_to=form.cleaned_data["valid_to"]
            )
            messages.success(request, "收费标准已设置结束日期。")
        except ValidationFailed as exc:
            messages.error(request, exc.message)
    return _back(request, "fee_item", standard.fee_item_id, anchor="standards")


# --- meter readings and shared charges -----------------------------------------------------------


def _this_month() -> datetime.date:
    return timezone.localdate().replace(day=1)


@login_required
def readings(request):
    """抄表录入: pick a metered item, a building and a month; type the building's readings in one go."""
    project = _project(request, roles.METER_READING_ROLES)
    items = FeeItem.objects.filter(project=project, method=ChargeMethod.METERED, is_active=True)
    buildings = list(Building.objects.filter(project=project).order_by("sort", "code"))
    choice = f.SheetChoiceForm(
        request.GET or None,
        items=items,
        buildings=buildings,
        initial={"period": f.month_text(_this_month())},
    )
    rows, errors, values = [], {}, {}
    item = building = period = None
    if choice.is_bound and choice.is_valid():
        item = choice.cleaned_data["fee_item"]
        building = get_object_or_404(Building, pk=choice.cleaned_data["building"], project=project)
        period = choice.cleaned_data["period"]
        if request.method == "POST":
            entries, values = _reading_entries(request.POST, building, item)
            try:
                if not entries:
                    raise ValidationFailed("没有填写任何本期读数", field="current")
                saved = billing_readings.meter_readings_record_many(
                    user=request.user, fee_item=item, period_start=period, entries=entries
                )
            except billing_readings.BatchFailed as exc:
                errors = exc.errors
                messages.error(request, exc.message)
            except ValidationFailed as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, f"已保存 {len(saved)} 户读数。")
                return redirect(request.get_full_path())
        rows = selectors.reading_sheet(building, item, period)
    shared_form = f.SharedChargeForm(
        items=FeeItem.objects.filter(project=project, method=ChargeMethod.SHARED, is_active=True),
        buildings=buildings,
        initial={"period": f.month_text(_this_month())},
    )
    return render(
        request,
        "billing/readings.html",
        {
            "choice": choice,
            "item": item,
            "building": building,
            "period": period,
            "rows": [
                {"row": r, "error": errors.get(r.room_id, ""), "value": values.get(r.room_id, {})}
                for r in rows
            ],
            "shared_form": shared_form,
            "shared": SharedCharge.objects.filter(project=project)
            .select_related("fee_item", "building")
            .order_by("-period_start", "fee_item__sort")[:24],
            "has_metered": items.exists(),
        },
        status=400 if errors else 200,
    )


def _reading_entries(post, building: Building, item: FeeItem):
    """The sheet's filled-in rows (a blank 本期读数 skips the room) and what was typed, per room."""
    rooms = {r.pk: r for r in Room.objects.filter(building=building)}
    entries, values = [], {}
    for room_id, room in rooms.items():
        current = post.get(f"current_{room_id}", "").strip()
        typed = {
            "current": current,
            "previous": post.get(f"previous_{room_id}", "").strip(),
            "replaced": post.get(f"replaced_{room_id}") == "on",
            "old_final": post.get(f"old_final_{room_id}", "").strip(),
            "new_start": post.get(f"new_start_{room_id}", "").strip(),
        }
        values[room_id] = typed
        if not current:
            continue
        entries.append(
            billing_readings.ReadingEntry(
                room=room,
                current=current,
                previous=typed["previous"] or None,
                replaced=typed["replaced"],
                old_meter_final=typed["old_final"] or None,
                new_meter_start=typed["new_start"] or None,
            )
        )
    return entries, values


@login_required
@require_POST
def shared_charge_add(request):
    project = _project(request, roles.METER_READING_ROLES)
    buildings = list(Building.objects.filter(project=project).order_by("sort", "code"))
    form = f.SharedChargeForm(
        request.POST,
        items=FeeItem.objects.filter(project=project, method=ChargeMethod.SHARED),
        buildings=buildings,
    )
    if form.is_valid():
        data = form.cleaned_data
        building = (
            get_object_or_404(Building, pk=data["building"], project=project)
            if data["building"]
            else None
        )
        try:
            billing_readings.shared_charge_record(
                user=request.user,
                fee_item=data["fee_item"],
                period_start=data["period"],
                total=data["total"],
                building=building,
                note=data["note"],
            )
        except ValidationFailed as exc:
            show_error(form, exc, {"period_start": "period"})
        else:
            messages.success(request, "公摊总额已登记。")
            return _back(request, "readings", anchor="shared")
    field, errs = next(iter(form.errors.items()))
    label = form.fields[field].label if field in form.fields else ""
    messages.error(request, f"{label}：{errs[0]}" if label else errs[0])
    return _back(request, "readings", anchor="shared")


# --- billing runs --------------------------------------------------------------------------------


@login_required
def runs(request):
    project = _project(request)
    form = f.RunPreviewForm(request.POST or None, initial={"period": f.month_text(_this_month())})
    if request.method == "POST" and form.is_valid():
        try:
            run = billing_runs.run_preview(
                project=project, period_start=form.cleaned_data["period"], user=request.user
            )
        except ValidationFailed as exc:
            show_error(form, exc, {"period_start": "period"})
        else:
            return _back(request, "run", run.pk)
    return render(
        request,
        "billing/runs.html",
        {"runs": selectors.runs_for(project)[:60], "form": form},
        status=400 if form.errors else 200,
    )


def _run_or_404(project: Project, run_id: int):
    run = selectors.run_in_project(project, run_id)
    if run is None:
        raise Http404("计费批次不存在或不在当前项目")
    return run


@login_required
def run(request, run_id: int):
    project = _project(request)
    obj = _run_or_404(project, run_id)
    return _run_page(request, obj)


def _run_page(request, obj, *, reverse_form=None, status=200):
    newest = selectors.latest_revision(obj.project_id, obj.period_start)
    return render(
        request,
        "billing/run.html",
        {
            "run": obj,
            "p": obj.preview or {},
            "is_newest": newest is None or newest.pk == obj.pk,
            "can_commit": obj.status in (RunStatus.PREVIEWED, RunStatus.FAILED)
            and (newest is None or newest.pk == obj.pk),
            "reverse_form": reverse_form or f.RunReverseForm(),
            "poll": POLL_SECONDS,
            **_progress_context(obj),
        },
        status=status,
    )


def _progress_context(obj) -> dict:
    working = obj.status in (RunStatus.QUEUED, RunStatus.RUNNING)
    percent = 100 if obj.status == RunStatus.COMMITTED else 0
    if obj.total_count and obj.status != RunStatus.COMMITTED:
        percent = min(100, obj.done_count * 100 // obj.total_count)
    return {"working": working, "percent": percent}


@login_required
def run_progress(request, run_id: int):
    """The progress bar alone, polled by htmx while the task writes the bills."""
    project = _project(request)
    obj = _run_or_404(project, run_id)
    response = render(
        request,
        "billing/_run_progress.html",
        {"run": obj, "poll": POLL_SECONDS, **_progress_context(obj)},
    )
    if obj.status not in (RunStatus.QUEUED, RunStatus.RUNNING) and request.htmx:
        # Finished: reload the whole page so the totals and the buttons match the new state.
        response["HX-Refresh"] = "true"
    return response


@login_required
@require_POST
def run_preview_again(request, run_id: int):
    project = _project(request)
    obj = _run_or_404(project, run_id)
    try:
        obj = billing_runs.run_preview(
            project=project, period_start=obj.period_start, user=request.user
        )
    except ValidationFailed as exc:
        messages.error(request, exc.message)
    return _back(request, "run", obj.pk)


@login_required
@require_POST
def run_commit(request, run_id: int):
    project = _project(request)
    obj = _run_or_404(project, run_id)
    try:
        billing_runs.run_commit(run=obj, user=request.user)
    except ValidationFailed as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "已开始生成账单，可留在本页查看进度，也可离开，后台会继续完成。")
    return _back(request, "run", obj.pk)


@login_required
@require_POST
def run_reverse(request, run_id: int):
    project = _project(request)
    obj = _run_or_404(project, run_id)
    form = f.RunReverseForm(request.POST)
    if form.is_valid():
        try:
            approver = approver_of(request, project, form)
            billing_runs.run_reverse(
                run=obj,
                user=request.user,
                reason=form.cleaned_data["reason"],
                approved_by=approver,
            )
        except ValidationFailed as exc:
            show_error(form, exc)
        else:
            messages.success(request, "整批账单已冲红。如需重新出账，请重新预览该月份。")
            return _back(request, "run", obj.pk)
    return _run_page(request, obj, reverse_form=form, status=400)


# --- late fees, LPR, pay-ahead -------------------------------------------------------------------


def _pct(rate: Decimal) -> str:
    return f"{money(rate * 100)}%"


def _rates(rule: LateFeeRule | None, project: Project) -> dict:
    """The contract's annual rate beside the lawful cap (LAW.md §6: 1.5 × one-year LPR)."""
    today = timezone.localdate()
    lpr = selectors.lpr_on(project.company_id, today)
    multiplier = rule.cap_multiplier if rule else selectors.DEFAULT_CAP_MULTIPLIER
    cap = multiplier * lpr
    contract = (rule.daily_rate * DAYS_PER_YEAR) if rule else Decimal(0)
    return {
        "lpr": lpr,
        "lpr_pct": _pct(lpr),
        "cap_pct": _pct(cap),
        "contract_pct": _pct(contract),
        "effective_pct": _pct(min(contract, cap)),
        "lpr_is_default": not LprRate.objects.filter(
            company_id=project.company_id, effective_from__lte=today
        ).exists(),
        "cap_annual": cap,
        "contract_annual": contract,
        "effective_annual": min(contract, cap),
        "contract_above_cap": contract > cap,
    }


@login_required
def late_fees(request):
    project = _project(request)
    rule = LateFeeRule.objects.filter(project=project).first()
    items = FeeItem.objects.filter(project=project, is_active=True)
    rule_form = f.LateFeeRuleForm(
        instance=rule, initial=None if rule else {"start_date": timezone.localdate()}
    )
    lpr_form = f.LprForm()
    pay_form = f.PayAheadForm(items=items)
    action = request.POST.get("action") if request.method == "POST" else None
    if action == "rule":
        rule_form = f.LateFeeRuleForm(request.POST, instance=rule)
        if rule_form.is_valid():
            try:
                services.late_fee_rule_set(
                    user=request.user, project=project, **rule_form.cleaned_data
                )
            except ValidationFailed as exc:
                show_error(rule_form, exc)
            else:
                messages.success(request, "滞纳金规则已保存。")
                return _back(request, "late_fees")
    elif action == "lpr":
        lpr_form = f.LprForm(request.POST)
        if lpr_form.is_valid():
            try:
                services.lpr_rate_set(
                    user=request.user, company=project.company, **lpr_form.cleaned_data
                )
            except ValidationFailed as exc:
                show_error(lpr_form, exc)
            else:
                messages.success(request, "一年期LPR 已登记。")
                return _back(request, "late_fees", anchor="lpr")
    elif action == "pay_ahead":
        pay_form = f.PayAheadForm(request.POST, items=items)
        if pay_form.is_valid():
            data = {
                k: v
                for k, v in pay_form.cleaned_data.items()
                if k not in ("approver_username", "approver_password")
            }
            try:
                approver = approver_of(request, project, pay_form)
                pay_ahead.pay_ahead_rule_add(user=request.user, approved_by=approver, **data)
            except ValidationFailed as exc:
                show_error(pay_form, exc)
            else:
                messages.success(request, "预交优惠已添加。")
                return _back(request, "late_fees", anchor="pay-ahead")
    bound = any(form.errors for form in (rule_form, lpr_form, pay_form))
    return render(
        request,
        "billing/late_fees.html",
        {
            "rule": rule,
            "rule_form": rule_form,
            "lpr_form": lpr_form,
            "pay_form": pay_form,
            "lprs": LprRate.objects.filter(company_id=project.company_id)[:20],
            "pay_rules": PayAheadRule.objects.filter(project=project)
            .select_related("fee_item", "approved_by")
            .order_by("fee_item__sort", "min_months"),
            **_rates(rule, project),
        },
        status=400 if bound else 200,
    )


# --- reductions of one household's bills ---------------------------------------------------------


def _bill_label(bill: Bill) -> str:
    return f"{bill.fee_item.name} {bill.period_start:%Y-%m}（应收 {bill.amount}，未缴 {bill.outstanding}）"


@login_required
def room_adjust(request, room_id: int):
    """减免与补偿 for one room: a one-off reduction or discount on a bill, a compensation spread over the
    household's unpaid bills, a late-fee waiver; each with a reason and the manager's approval."""
    room = get_object_or_404(
        Room.objects.select_related("project"),
        pk=room_id,
        project_id__in=project_ids_for(request.user),
    )
    project = room.project
    if role_in(request.user, project) not in roles.BILLING_RUN_ROLES:
        raise PermissionDenied("您的角色不能办理减免与补偿。")
    accounts = selectors.accounts_of_room(room)
    bills = [b for a in accounts for b in selectors.open_bills(a)]
    late = selectors.late_fees_due(project, bills, timezone.localdate()) if bills else {}
    payers = {a.pk: a.payer.name for a in accounts}
    for b in bills:
        b.payer_name = payers[b.account_id]
    bill_choices = [(b.pk, f"{payers[b.account_id]} {_bill_label(b)}") for b in bills]
    waivable = [
        (b.pk, f"{payers[b.account_id]} {_bill_label(b)} 滞纳金 {late[b.pk].due}")
        for b in bills
        if b.pk in late and late[b.pk].due > 0
    ]
    account_choices = [(a.pk, f"{a.payer.name}（{a.room.code}）") for a in accounts]
    by_id = {b.pk: b for b in bills}
    # The page's three forms: each is bound, checked and approved alike, then makes its own write.
    actions = {
        "adjust": (
            lambda *data: f.BillAdjustForm(*data, bills=bill_choices),
            lambda d, approver: adjustments.bill_adjust(
                user=request.user,
                bill=by_id[d["bill"]],
                kind=d["kind"],
                amount=d["amount"],
                reason=d["reason"],
                approved_by=approver,
            ),
            "账单调整已入账。",
        ),
        "compensate": (
            lambda *data: f.CompensateForm(*data, accounts=account_choices),
            lambda d, approver: adjustments.account_compensate(
                user=request.user,
                account=next(a for a in accounts if a.pk == d["account"]),
                amount=d["amount"],
                reason=d["reason"],
                approved_by=approver,
            ),
            "补偿已抵扣到未缴账单。",
        ),
        "waive": (
            lambda *data: f.WaiverForm(*data, bills=waivable),
            lambda d, approver: services.late_fee_waive(
                user=request.user,
                bill=by_id[d["bill"]],
                amount=d["amount"],
                reason=d["reason"],
                approved_by=approver,
            ),
            "滞纳金减免已入账。",
        ),
    }
    forms_of = {name: make() for name, (make, _, _) in actions.items()}
    action = request.POST.get("action") if request.method == "POST" else None
    if action in actions:
        make, write, done = actions[action]
        form = forms_of[action] = make(request.POST)
        if form.is_valid():
            try:
                write(form.cleaned_data, approver_of(request, project, form))
            except ValidationFailed as exc:
                show_error(form, exc)
            else:
                messages.success(request, done)
                return _back(request, "room_adjust", room.pk)
    adjust_form, compensate_form, waiver_form = forms_of.values()
    bound = any(x.errors for x in (adjust_form, compensate_form, waiver_form))
    return render(
        request,
        "billing/room_adjust.html",
        {
            "room": room,
            "accounts": accounts,
            "bills": [(b, late.get(b.pk)) for b in bills],
            "adjust_form": adjust_form,
            "compensate_form": compensate_form,
            "waiver_form": waiver_form,
        },
        status=400 if bound else 200,
    )


# --- project settings ----------------------------------------------------------------------------


@login_required
def billing_settings(request):
    project = _project(request)
    current = selectors.billing_settings(project)
    form = f.BillingSettingsForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        try:
            fee_settings.billing_settings_update(
                user=request.user, project=project, **form.cleaned_data
            )
        except ValidationFailed as exc:
            show_error(form, exc)
        else:
            messages.success(request, "收费设置已保存。")
            return _back(request, "settings")
    return render(
        request,
        "billing/settings.html",
        {"form": form},
        status=400 if form.errors else 200,
    )
