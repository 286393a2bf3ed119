"""Pages of the banking app: the queue (待认领款), a statement line with its claims, imports.

Views check scope and role and render; writes go through ``banking.claims`` and
``banking.statement_imports``, reads through ``banking.selectors``. A line outside the user's projects is a 404; a role that may not act is a 403.
"""

from __future__ import annotations

from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from wuye.banking import claims, selectors, statement_imports
from wuye.banking.enums import LineStatus
from wuye.banking.file_pages import preview_context, remap_posted
from wuye.banking.forms import RefundForm, UndoForm, UploadForm
from wuye.banking.tasks import statement_match_task
from wuye.core import roles, xlsx
from wuye.core.approvals import approver_of_form, roles_text
from wuye.core.errors import NotInScope, WuyeError
from wuye.core.privacy import NAMED_LIST_MARK, named_list_audit
from wuye.core.scope import access_role, project_ids_for
from wuye.ledger.office_forms import place_error
from wuye.registry.selectors import search_households

SPLIT_ROWS = 5
UNDO_RULE = "规定：已入账的银行流水只能通过冲红收款撤销，须写明原因并经有权限的主管授权；流水随后回到待认领款。"
REFUND_RULE = "规定：无人认领的款项退回付款人须写明原因并经有权限的主管授权（转账在网银中办理）。"


def _project(request):
    if not request.project:
        raise Http404("没有可用的项目")
    return request.project


def _line(request, line_id: int):
    line = selectors.line_detail(line_id, project_ids_for(request.user))
    if line is None:
        raise Http404("流水不存在或不在您的项目范围内")
    return line


@login_required
@require_GET
def queue(request):
    """待认领款: every incoming line nobody has claimed, with the matcher's suggestions and its age."""
    project = _project(request)
    role = access_role(request.user, project.pk, roles.BANK_QUEUE_ROLES, "查看待认领款")
    text = request.GET.get("q", "")[:60]
    unidentified = request.GET.get("show") == "unidentified"
    rows = selectors.queue(project.pk, text=text, unidentified=unidentified)
    page = Paginator(rows, selectors.QUEUE_PAGE).get_page(request.GET.get("page"))
    today = timezone.localdate()
    for line in page.object_list:
        line.age = selectors.age_days(line, today)
    return render(
        request,
        "banking/queue.html",
        {
            "page": page,
            "q": text,
            "unidentified": unidentified,
            "summary": selectors.queue_summary(project.pk, today),
            "can_claim": role in roles.BANK_FINANCE_ROLES,
            "named_list_mark": NAMED_LIST_MARK,
        },
    )


@login_required
@require_http_methods(["GET"])
def line_page(request, line_id: int):
    line = _line(request, line_id)
    project_id = line.bank_account.project_id
    role = access_role(request.user, project_id, roles.BANK_QUEUE_ROLES, "查看银行流水")
    return _render_line(request, line, role)


def _render_line(request, line, role, *, error: str = "", status: int = 200, **forms):
    project_id = line.bank_account.project_id
    q = (request.GET.get("q") or request.POST.get("q") or "").strip()[:60]
    hits = search_households(project=project_id, text=q) if q else []
    split_rows = forms.get("split_rows") or [("", "")] * SPLIT_ROWS
    return render(
        request,
        "banking/line.html",
        {
            "line": line,
            "age": selectors.age_days(line),
            "claim": selectors.claim_in_force(line),
            "claims": list(line.claims.all()),
            "can_claim": role in roles.BANK_FINANCE_ROLES and line.status == LineStatus.REVIEW,
            "can_undo": role in roles.BANK_FINANCE_ROLES,
            "q": q,
            "hits": hits,
            "split_rows": split_rows,
            "undo_form": forms.get("undo_form") or UndoForm(prefix="undo"),
            "refund_form": forms.get("refund_form") or RefundForm(prefix="refund"),
            "approvers": roles_text(roles.PAYMENT_APPROVER_ROLES),
            "self_approves": role in roles.PAYMENT_APPROVER_ROLES,
            "undo_rule": UNDO_RULE,
            "refund_rule": REFUND_RULE,
            "error": error,
        },
        status=status,
    )


@login_required
@require_POST
def line_claim(request, line_id: int):
    """One of three ways to claim: a suggestion (one click), a searched room, or a split."""
    line = _line(request, line_id)
    role = access_role(
        request.user, line.bank_account.project_id, roles.BANK_FINANCE_ROLES, "认领流水"
    )
    split_rows = list(
        zip(request.POST.getlist("room"), request.POST.getlist("amount"), strict=False)
    )[:SPLIT_ROWS]
    try:
        if "suggestion" in request.POST:
            try:
                index = int(request.POST["suggestion"])
            except ValueError:
                index = -1
            claim = claims.claim_suggestion(user=request.user, line=line, index=index)
        else:
            rooms = [(code.strip(), amount.strip()) for code, amount in split_rows if code.strip()]
            if len(rooms) == 1 and not rooms[0][1]:
                rooms = [(rooms[0][0], str(line.amount))]  # one room: the whole line
            claim = claims.claim_to_rooms(user=request.user, line=line, rooms=rooms)
    except NotInScope as exc:
        raise Http404(exc.message) from exc
    except WuyeError as exc:
        padded = split_rows + [("", "")] * (SPLIT_ROWS - len(split_rows))
        return _render_line(
            request, _line(request, line_id), role, error=exc.message, status=400, split_rows=padded
        )
    rooms = "、".join(f"{p.account.room.code} {p.amount} 元" for p in claim.parts.all())
    messages.success(request, f"已认领并入账：{rooms}。")
    return redirect("banking:line", line.pk)


@login_required
@require_POST
def line_undo(request, line_id: int):
    line = _line(request, line_id)
    role = access_role(
        request.user, line.bank_account.project_id, roles.BANK_FINANCE_ROLES, "撤销认领"
    )
    claim = selectors.claim_in_force(line)
    form = UndoForm(request.POST, prefix="undo")
    if claim is None or not form.is_valid():
        return _render_line(request, line, role, error="该流水没有可撤销的认领", status=400)
    return _approved(
        request,
        line,
        role,
        form,
        "undo_form",
        rule=UNDO_RULE,
        write=lambda **signed: claims.claim_undo(user=request.user, claim=claim, **signed),
        done="已撤销：所入收款已冲红，流水回到待认领款。请收回原收据。",
    )


@login_required
@require_POST
def line_refund(request, line_id: int):
    line = _line(request, line_id)
    role = access_role(
        request.user, line.bank_account.project_id, roles.BANK_FINANCE_ROLES, "退回款项"
    )
    form = RefundForm(request.POST, prefix="refund")
    if not form.is_valid():
        return _render_line(request, line, role, status=400, refund_form=form)
    return _approved(
        request,
        line,
        role,
        form,
        "refund_form",
        rule=REFUND_RULE,
        write=lambda **signed: claims.line_refund(user=request.user, line=line, **signed),
        done="已登记退回付款人，请在网银中办理转账。",
    )


def _approved(request, line, role, form, form_name: str, *, rule: str, write, done: str):
    """Undo and refund: the approver of the form (``rule`` shown when one is missing) signs,
    ``write(reason=, approved_by=)`` runs; a refusal shows the line page again with the form."""
    try:
        approver = approver_of_form(
            request=request,
            project=line.bank_account.project_id,
            form=form,
            roles=roles.PAYMENT_APPROVER_ROLES,
            rule=rule,
        )
        write(reason=form.cleaned_data.get("reason") or "", approved_by=approver)
    except NotInScope as exc:
        raise Http404(exc.message) from exc
    except WuyeError as exc:
        error = place_error(form, exc)
        return _render_line(request, line, role, error=error, status=400, **{form_name: form})
    messages.success(request, done)
    return redirect("banking:line", line.pk)


# --- statement import: upload → preview (mapping) → commit ------------------------------------------


def _batch(request, batch_id: int):
    batch = selectors.import_detail(batch_id, project_ids_for(request.user))
    if batch is None:
        raise Http404("导入记录不存在或不在您的项目范围内")
    access_role(request.user, batch.project_id, roles.BANK_FINANCE_ROLES, "导入银行流水")
    return batch


def _chosen_account(project_id: int, value: str):
    if not value:
        return None
    return next((a for a in selectors.bank_accounts_of(project_id) if str(a.pk) == value), None)


@login_required
@require_http_methods(["GET", "POST"])
def imports(request):
    """银行流水: upload a statement; the recent imports of the project."""
    project = _project(request)
    access_role(request.user, project.pk, roles.BANK_FINANCE_ROLES, "导入银行流水")
    accounts = selectors.bank_accounts_of(project.pk)
    form = UploadForm(request.POST or None, request.FILES or None, accounts=accounts)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            batch = statement_imports.statement_upload(
                user=request.user,
                project=project,
                filename=upload.name,
                content=upload.read(),
                account=_chosen_account(project.pk, form.cleaned_data.get("account") or ""),
            )
        except WuyeError as exc:
            form.add_error("file", exc.message)
        else:
            return redirect("banking:import", batch.pk)
    return render(
        request,
        "banking/imports.html",
        {"form": form, "recent": selectors.imports_of(project.pk), "accounts": accounts},
        status=400 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def import_page(request, batch_id: int):
    """The preview (mapping, first rows, errors) before the commit; the lines and what became of
    them after it."""
    batch = _batch(request, batch_id)
    if request.method == "POST":
        remap_posted(
            request,
            batch,
            lambda mapping: statement_imports.statement_remap(
                user=request.user, batch=batch, mapping=mapping
            ),
        )
        return redirect("banking:import", batch.pk)
    context = {
        "batch": batch,
        **preview_context(batch),
        "accounts": selectors.bank_accounts_of(batch.project_id),
    }
    if context["committed"]:
        context["lines"] = selectors.lines_of_import(batch)
    return render(request, "banking/import.html", context)


# Statements with more incoming lines than this are matched and posted in the background.
SYNC_MATCH_LINES = 300


@login_required
@require_POST
def import_commit(request, batch_id: int):
    batch = _batch(request, batch_id)
    account = _chosen_account(batch.project_id, request.POST.get("account", ""))
    try:
        stored = statement_imports.statement_commit(
            user=request.user, batch=batch, account=account, match=False
        )
        if stored is not None and stored.statement.match_total <= SYNC_MATCH_LINES:
            result = statement_imports.statement_match(user=request.user, batch=stored.statement)
        elif stored is not None:
            statement_match_task.enqueue(batch.pk, request.user.pk)
            messages.success(
                request,
                f"流水已保存（新增 {stored.statement.new_count} 笔），"
                f"正在后台匹配入账 {stored.statement.match_total} 笔，可离开本页。",
            )
            return redirect("banking:import", batch.pk)
        else:
            result = None
    except NotInScope as exc:
        raise Http404(exc.message) from exc
    except WuyeError as exc:
        messages.error(request, exc.message)
        return redirect("banking:import", batch.pk)
    if result is None:
        messages.error(request, "导入失败，未写入任何流水，原因见下方。")
    else:
        s = result.statement
        messages.success(
            request,
            f"导入完成：新增 {s.new_count} 笔，重复 {s.duplicate_count} 笔；"
            f"自动入账 {result.count('auto')} 笔，待认领 {result.count('review')} 笔。",
        )
    return redirect("banking:import", batch.pk)


@login_required
@require_GET
def import_progress(request, batch_id: int):
    """The progress box of a statement being matched in the background (htmx polls it)."""
    batch = _batch(request, batch_id)
    return render(request, "banking/_progress.html", {"batch": batch})


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@login_required
@require_GET
def queue_export(request):
    """待认领款 as a workbook, marked internal and audited (it names payers)."""
    project = _project(request)
    access_role(request.user, project.pk, roles.BANK_QUEUE_ROLES, "导出待认领款")
    text = request.GET.get("q", "")[:60]
    unidentified = request.GET.get("show") == "unidentified"
    rows = list(selectors.queue(project.pk, text=text, unidentified=unidentified))
    today = timezone.localdate()
    book = xlsx.workbook()
    sheet = book.create_sheet("待认领款")
    sheet.append([NAMED_LIST_MARK])
    sheet.append([f"{project.name} 待认领款 导出于 {today:%Y-%m-%d}"])
    sheet.append(
        [
            "交易日期",
            "已等待(天)",
            "金额(元)",
            "付款人",
            "对方账号尾号",
            "附言",
            "摘要",
            "流水号",
            "建议房号",
        ]
    )
    for line in rows:
        sheet.append(
            [
                line.txn_date,
                selectors.age_days(line, today),
                line.amount,
                line.counterparty_name,
                line.counterparty_account[-4:],
                line.remark,
                line.summary,
                line.serial,
                "；".join("、".join(s["rooms"]) for s in line.suggestions[:3]),
            ]
        )
    named_list_audit(
        user=request.user,
        what="待认领款",
        how="Excel",
        rows=len(rows),
        params={"q": text, "unidentified": unidentified},
        project=project.pk,
    )
    response = HttpResponse(xlsx.save(book), content_type=XLSX)
    name = quote(f"{project.name}-待认领款-{today:%Y%m%d}.xlsx")
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{name}"
    return response
