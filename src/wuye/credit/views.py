"""Credit pages: the 信用档案 panel of the household page, the segment strip of the case page, the
客户分群 list with counts and the segment edit page. Views check access and render; writes go
through ``services``."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from wuye.billing.models import Account
from wuye.core import roles
from wuye.core.errors import WuyeError
from wuye.core.scope import access_role, project_ids_for
from wuye.credit import selectors, services, tasks
from wuye.credit.forms import SegmentForm
from wuye.credit.models import Segment
from wuye.credit.segments import ensure_segments, rule_text
from wuye.dunning.enums import RefusalReason
from wuye.ledger.selectors.window import account_position
from wuye.registry.models import Room


def _project(request):
    if not request.project:
        raise Http404("没有可用的项目")
    return request.project


def _role(request, project_id: int, allowed, doing: str):
    return access_role(request.user, project_id, allowed, doing)


def _panel_context(credit_file) -> dict:
    reasons = dict(RefusalReason.choices)
    return {
        "cf": credit_file,
        "bars": selectors.history_bars(credit_file.history) if credit_file else [],
        "refusals": [
            (str(reasons.get(k, k)), n)
            for k, n in sorted((credit_file.refusal_reasons or {}).items(), key=lambda kv: -kv[1])
        ]
        if credit_file
        else [],
        "last_refusal": str(reasons.get(credit_file.last_refusal_reason, ""))
        if credit_file
        else "",
        "strategy": selectors.strategy_text(credit_file.segment)
        if credit_file and credit_file.segment
        else [],
    }


@login_required
@require_GET
def household_panel(request, room_id: int):
    """信用档案 on the household page (loaded by htmx)."""
    room = Room.objects.filter(pk=room_id, project_id__in=project_ids_for(request.user)).first()
    if room is None:
        raise Http404("房屋不存在或不在您的项目范围内")
    credit_file = selectors.credit_file_of_room(room.pk)
    # The money owed is read live from the ledger's selector, the one the account section of the
    # same page uses, so the two never disagree; the file's other figures are its snapshot.
    position = (
        account_position(credit_file.account_id, timezone.localdate()) if credit_file else None
    )
    return render(
        request,
        "credit/_household_panel.html",
        {"room": room, "position": position, **_panel_context(credit_file)},
    )


@login_required
@require_GET
def account_strip(request, account_id: int):
    """The segment and its strategy on the case page (loaded by htmx)."""
    account = Account.objects.filter(
        pk=account_id, project_id__in=project_ids_for(request.user)
    ).first()
    if account is None:
        raise Http404("账户不存在或不在您的项目范围内")
    credit_file = selectors.credit_file_of_account(account.pk)
    return render(request, "credit/_case_strip.html", _panel_context(credit_file))


@login_required
@require_GET
def segments(request):
    """客户分群: the project's segments in the order they are tried, with their households."""
    project = _project(request)
    role = _role(request, project.pk, roles.CASE_OVERSEER_ROLES, "查看客户分群")
    rows = ensure_segments(project.pk)
    counts = selectors.segment_counts(project.pk)
    total = sum(counts.values())
    for s in rows:
        s.households = counts.get(s.pk, 0)
        s.share = round(s.households * 100 / total) if total else 0
        s.rule = rule_text(s)
        s.strategy = selectors.strategy_text(s)
    return render(
        request,
        "credit/segments.html",
        {
            "segments": rows,
            "unsegmented": counts.get(None, 0),
            "total": total,
            "can_edit": role in roles.SEGMENT_EDITOR_ROLES,
            "computed_at": selectors.last_computed(project.pk),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def segment_edit(request, segment_id: int):
    segment = (
        Segment.objects.filter(pk=segment_id, project_id__in=project_ids_for(request.user))
        .select_related("project")
        .first()
    )
    if segment is None:
        raise Http404("分群不存在或不在您的项目范围内")
    _role(request, segment.project_id, roles.SEGMENT_EDITOR_ROLES, "修改客户分群")
    form = SegmentForm(request.POST or None, instance=segment, project=segment.project)
    if request.method == "POST" and form.is_valid():
        values = {name: form.cleaned_data[name] for name in form.Meta.fields}
        fresh = Segment.objects.get(pk=segment.pk)  # the form has already changed ``segment``
        try:
            services.segment_update(user=request.user, segment=fresh, **values)
        except WuyeError as exc:
            if exc.field and exc.field in form.fields:
                form.add_error(exc.field, exc.message)
            else:
                form.add_error(None, exc.message)
        else:
            messages.success(request, f"已保存“{fresh.name}”，本项目住户已按新规则重新分群")
            return redirect("credit:segments")
    return render(request, "credit/segment_edit.html", {"segment": segment, "form": form})


@login_required
@require_POST
def recompute(request):
    """Queues a full recompute of the project's credit files (the nightly task does it anyway)."""
    project = _project(request)
    _role(request, project.pk, roles.SEGMENT_EDITOR_ROLES, "重算信用档案")
    tasks.credit_recompute_project.enqueue(project.pk)
    messages.success(request, "已提交重算：信用档案与分群将在后台更新")
    return redirect("credit:segments")
