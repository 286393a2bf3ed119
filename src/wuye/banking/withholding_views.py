"""Pages of bank withholding (银行代扣): authorisations, batches and their files, return files, and the
bank results card on a steward's case page.

Finance (``core.roles.BANK_FINANCE_ROLES``) manages everything; stewards and the other case workers see the
results of their cases' households on the case page. Account numbers are masked on every page and
export; only the bank's batch file carries them in full (finance only, audited).
"""

from __future__ import annotations

from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from wuye.banking import (
    selectors,
    withholding_authorizations,
    withholding_batches,
    withholding_files,
    withholding_returns,
)
from wuye.banking.enums import BatchState, LineResult
from wuye.banking.file_pages import preview_context, remap_posted
from wuye.banking.forms import AuthorizationForm, BatchForm, CancelForm, ReturnUploadForm
from wuye.billing.accounts import account_for
from wuye.core import roles, uploads, xlsx
from wuye.core.errors import NotInScope, WuyeError
from wuye.core.importing.batch import ImportStatus
from wuye.core.masking import mask_bank_account
from wuye.core.privacy import NAMED_LIST_MARK, named_list_audit
from wuye.core.roles import BANK_FINANCE_ROLES
from wuye.core.scope import access_role, project_ids_for, role_in
from wuye.dunning.models import ArrearsCase
from wuye.registry.models import Room
from wuye.registry.normalize import parse_room_code, room_code

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _project(request):
    if not request.project:
        raise Http404("没有可用的项目")
    return request.project


def _manage(request, project_id: int):
    access_role(request.user, project_id, BANK_FINANCE_ROLES, "管理银行代扣（由财务办理）")


def _batch(request, batch_id: int):
    batch = selectors.batch_detail(batch_id, project_ids_for(request.user))
    if batch is None:
        raise Http404("代扣批次不存在或不在您的项目范围内")
    _manage(request, batch.project_id)
    return batch


def _download(content: bytes, content_type: str, name: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return uploads.protect(response)


# --- overview: batches and return files ------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def overview(request):
    """银行代扣: make a month's batch, import a return file, the batches and imports so far."""
    project = _project(request)
    _manage(request, project.pk)
    banks = selectors.withholding_banks(project.pk)
    batches = selectors.batches_of(project.pk)
    today = timezone.localdate()
    batch_form = BatchForm(banks=banks, initial={"month": f"{today:%Y-%m}"}, prefix="batch")
    return_form = ReturnUploadForm(
        batches=[b for b in batches if b.state == BatchState.SENT], prefix="ret"
    )
    status = 200
    if request.method == "POST" and "batch-bank" in request.POST:
        batch_form = BatchForm(request.POST, banks=banks, prefix="batch")
        if batch_form.is_valid():
            try:
                batch = withholding_batches.batch_create(
                    user=request.user,
                    project=project,
                    bank=batch_form.cleaned_data["bank"],
                    month=batch_form.cleaned_data["month"],
                )
            except WuyeError as exc:
                batch_form.add_error(
                    exc.field if exc.field in batch_form.fields else None, exc.message
                )
            else:
                messages.success(
                    request,
                    f"已生成代扣批次 {batch.number}：{batch.line_count} 笔，合计 {batch.total_amount} 元。"
                    "请下载代扣文件提交银行；银行回盘前这些住户不再催缴。",
                )
                return redirect("banking:withholding_batch", batch.pk)
        status = 400
    elif request.method == "POST":
        return_form = ReturnUploadForm(
            request.POST,
            request.FILES,
            batches=[b for b in batches if b.state == BatchState.SENT],
            prefix="ret",
        )
        if return_form.is_valid():
            upload = return_form.cleaned_data["file"]
            chosen = return_form.cleaned_data.get("batch") or ""
            batch = next((b for b in batches if str(b.pk) == chosen), None)
            try:
                ret = withholding_returns.return_upload(
                    user=request.user,
                    project=project,
                    filename=upload.name,
                    content=upload.read(),
                    batch=batch,
                )
            except WuyeError as exc:
                return_form.add_error("file", exc.message)
            else:
                return redirect("banking:withholding_return", ret.pk)
        status = 400
    return render(
        request,
        "banking/withholding.html",
        {
            "batches": batches,
            "returns": selectors.returns_of(project.pk),
            "batch_form": batch_form,
            "return_form": return_form,
            "banks": banks,
            "authorised": selectors.authorizations_of(project.pk).count(),
        },
        status=status,
    )


# --- authorisations --------------------------------------------------------------------------------


def _room_account(project_id: int, text: str, user):
    try:
        code = room_code(*parse_room_code(text))
    except ValueError as exc:
        raise WuyeError(str(exc), field="room") from exc
    room = Room.objects.filter(project_id=project_id, code=code).first()
    if room is None:
        raise WuyeError(f"房号 {code} 不在本项目", field="room")
    return account_for(room, user=user)


@login_required
@require_http_methods(["GET", "POST"])
def authorizations(request):
    """代扣授权: the project's authorisations (masked account numbers) and the form to add one."""
    project = _project(request)
    _manage(request, project.pk)
    form = AuthorizationForm(prefix="auth")
    status = 200
    if request.method == "POST":
        form = AuthorizationForm(request.POST, request.FILES, prefix="auth")
        if form.is_valid():
            data = form.cleaned_data
            try:
                account = _room_account(project.pk, data["room"], request.user)
                auth = withholding_authorizations.authorization_add(
                    user=request.user,
                    account=account,
                    bank=data["bank"],
                    account_number=data["account_number"],
                    holder=data["holder"],
                    signed_on=data["signed_on"],
                    agreement=data.get("agreement"),
                )
            except NotInScope as exc:
                raise Http404(exc.message) from exc
            except WuyeError as exc:
                field = {"account": "room"}.get(exc.field, exc.field)
                form.add_error(field if field in form.fields else None, exc.message)
            else:
                messages.success(
                    request,
                    f"已登记 {account.room.code} 的代扣授权（{auth.bank} "
                    f"{mask_bank_account(auth.account_number)}）。",
                )
                return redirect("banking:withholding_authorizations")
        status = 400
    text = request.GET.get("q", "")[:40]
    show = request.GET.get("show", "active")
    active = {"active": True, "cancelled": False}.get(show)
    rows = selectors.authorizations_of(project.pk, text=text, active=active)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "banking/withholding_authorizations.html",
        {
            "form": form,
            "page": page,
            "q": text,
            "show": show,
            "banks": selectors.withholding_banks(project.pk),
            "cancel_form": CancelForm(),
        },
        status=status,
    )


@login_required
@require_POST
def authorization_cancel(request, auth_id: int):
    auth = selectors.authorization_detail(auth_id, project_ids_for(request.user))
    if auth is None:
        raise Http404("授权不存在或不在您的项目范围内")
    _manage(request, auth.project_id)
    form = CancelForm(request.POST)
    try:
        if not form.is_valid():
            raise WuyeError("请填写取消原因", field="reason")
        withholding_authorizations.authorization_cancel(
            user=request.user, authorization=auth, reason=form.cleaned_data["reason"]
        )
    except WuyeError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"已取消 {auth.account.room.code} 的代扣授权。")
    return redirect("banking:withholding_authorizations")


@login_required
@require_GET
def authorization_agreement(request, auth_id: int):
    """The scanned agreement, served by what its bytes are (``core.uploads.file_response``)."""
    auth = selectors.authorization_detail(auth_id, project_ids_for(request.user))
    if auth is None or not auth.agreement:
        raise Http404("没有授权书扫描件")
    _manage(request, auth.project_id)
    return uploads.file_response(auth.agreement, filename=f"代扣授权书-{auth.account.room.code}")


# --- batches ---------------------------------------------------------------------------------------


@login_required
@require_GET
def batch_page(request, batch_id: int):
    batch = _batch(request, batch_id)
    result = request.GET.get("result", "")
    if result not in LineResult.values:
        result = ""
    return render(
        request,
        "banking/withholding_batch.html",
        {
            "batch": batch,
            "lines": selectors.batch_lines(batch, result=result),
            "result": result,
            "results": LineResult.choices,
            "cancel_form": CancelForm(),
            "can_cancel": batch.state == BatchState.SENT
            and not batch.lines.exclude(result=LineResult.PENDING).exists(),
        },
    )


@login_required
@require_GET
def batch_file(request, batch_id: int):
    """The file for the bank (full account numbers: finance only, each download audited)."""
    batch = _batch(request, batch_id)
    try:
        name, content_type, content = withholding_files.batch_file(user=request.user, batch=batch)
    except WuyeError as exc:
        raise PermissionDenied(exc.message) from exc
    return _download(content, content_type, name)


@login_required
@require_POST
def batch_cancel(request, batch_id: int):
    batch = _batch(request, batch_id)
    form = CancelForm(request.POST)
    try:
        if not form.is_valid():
            raise WuyeError("请填写作废原因", field="reason")
        withholding_batches.batch_cancel(
            user=request.user, batch=batch, reason=form.cleaned_data["reason"]
        )
    except WuyeError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"批次 {batch.number} 已作废，其住户恢复正常催缴。")
    return redirect("banking:withholding_batch", batch.pk)


@login_required
@require_GET
def batch_export(request, batch_id: int):
    """The batch's lines and results as a workbook, account numbers masked, marked and audited."""
    batch = _batch(request, batch_id)
    lines = list(selectors.batch_lines(batch))
    book = xlsx.workbook()
    sheet = book.create_sheet("代扣明细")
    sheet.append([NAMED_LIST_MARK])
    sheet.append(
        [
            f"代扣批次 {batch.number} {batch.bank} {batch.month:%Y-%m}",
            f"{batch.line_count} 笔",
            f"{batch.total_amount} 元",
        ]
    )
    sheet.append(
        ["序号", "业务编号", "房号", "户名", "扣款账号", "金额(元)", "结果", "原因", "收据号"]
    )
    for line in lines:
        sheet.append(
            [
                line.seq,
                line.reference,
                line.account.room.code,
                line.authorization.holder,
                mask_bank_account(line.authorization.account_number),
                line.amount,
                line.get_result_display(),
                line.reason,
                f"{line.payment.receipt_no:08d}" if line.payment_id else "",
            ]
        )
    named_list_audit(
        user=request.user,
        what="代扣明细",
        how="Excel",
        rows=len(lines),
        params={"batch": batch.number},
        project=batch.project_id,
    )
    return _download(xlsx.save(book), XLSX, f"{batch.number}-代扣明细.xlsx")


# --- return files ----------------------------------------------------------------------------------


def _return(request, return_id: int):
    ret = selectors.return_detail(return_id, project_ids_for(request.user))
    if ret is None:
        raise Http404("回盘导入不存在或不在您的项目范围内")
    _manage(request, ret.project_id)
    return ret


@login_required
@require_http_methods(["GET", "POST"])
def return_page(request, return_id: int):
    """The return file's preview (mapping, rows, row errors) and, once imported, its result."""
    ret = _return(request, return_id)
    if request.method == "POST":
        remap_posted(
            request,
            ret,
            lambda mapping: withholding_returns.return_remap(
                user=request.user, ret=ret, mapping=mapping
            ),
        )
        return redirect("banking:withholding_return", ret.pk)
    return render(request, "banking/withholding_return.html", {"ret": ret, **preview_context(ret)})


@login_required
@require_POST
def return_commit(request, return_id: int):
    ret = _return(request, return_id)
    try:
        ret = withholding_returns.return_commit(user=request.user, ret=ret)
    except NotInScope as exc:
        raise Http404(exc.message) from exc
    except WuyeError as exc:
        messages.error(request, exc.message)
        return redirect("banking:withholding_return", ret.pk)
    if ret.status == ImportStatus.COMMITTED:
        messages.success(
            request,
            f"回盘已导入：扣款成功 {ret.success_count} 笔（已入账），失败 {ret.failure_count} 笔"
            f"（已记入催缴案件）；此前已处理 {ret.already_count} 笔，未重复入账。",
        )
    else:
        messages.error(request, "导入失败，未写入任何结果，原因见下方。")
    return redirect("banking:withholding_return", ret.pk)


# --- the case page's card --------------------------------------------------------------------------


@login_required
@require_GET
def case_panel(request, case_id: int):
    """银行到账与代扣 on a case page (listed in ``WUYE_CASE_PANELS``, loaded by htmx): the household's
    withholding authorisation and results with the bank's reasons, and the transfers claimed for it."""
    case = (
        ArrearsCase.objects.filter(pk=case_id, project_id__in=project_ids_for(request.user))
        .select_related("account")
        .first()
    )
    if case is None:
        raise Http404("案件不存在或不在您的项目范围内")
    role = role_in(request.user, case.project_id)
    if role not in roles.CASE_WORKER_ROLES | roles.BANK_QUEUE_ROLES:
        raise PermissionDenied("您的角色不能查看该户的银行记录。")
    if (
        role in roles.OWN_CASES_ONLY_ROLES
        and role not in roles.BANK_QUEUE_ROLES
        and case.assignee_id != request.user.pk
    ):
        raise PermissionDenied("只能查看自己负责的案件。")
    return render(
        request,
        "banking/_case_bank_panel.html",
        {"case": case, "r": selectors.household_bank_results(case.account_id)},
    )
