"""书面催告与法律程序 (written demands and the legal stage): moving a case to a later stage by decision.

The legal stage needs a project manager's or company administrator's decision and a recorded,
delivered written demand whose reasonable payment period has passed (《民法典》第九百四十四条第二款);
``_demand_check`` holds a contact that records a written demand to the same rule.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from wuye.core import roles
from wuye.core.audit import audit_record
from wuye.core.errors import ValidationFailed
from wuye.core.models import User
from wuye.dunning import rules
from wuye.dunning.casework import (
    _apply_task,
    _choice,
    _event,
    _open_or_refuse,
    _reason,
    _supervisor,
)
from wuye.dunning.enums import (
    STAGE_ORDER,
    WRITTEN_CHANNELS,
    DeliveryStatus,
    EventKind,
    Stage,
)
from wuye.dunning.models import (
    ArrearsCase,
    ContactRecord,
)

DAY = datetime.timedelta(days=1)


def _demand_check(
    *,
    channel: str,
    at: datetime.datetime,
    now: datetime.datetime,
    delivery_status: str,
    demand_deadline: datetime.date | None,
    late_entry_reason: str,
    attachments: Sequence[UploadedFile],
    settings,
) -> str:
    """A written demand (催告) gives the owner a real period: its deadline at least the project's
    minimum days after the delivery (《民法典》第九百四十四条第二款: a reasonable period), and a delivery
    entered on a later day needs a reason and the proof of delivery. Returns the cleaned reason."""
    reason = (late_entry_reason or "").strip()
    if len(reason) > 200:
        raise ValidationFailed("补登原因最多 200 字", field="late_entry_reason")
    if word := rules.forbidden_measure(reason):
        raise ValidationFailed(f"“{word}”：{rules.FORBIDDEN_MESSAGE}", field="late_entry_reason")
    if channel not in WRITTEN_CHANNELS:
        return reason
    delivered_on = timezone.localtime(at).date()
    if demand_deadline is not None:
        days = rules.demand_min_days(settings)
        earliest = delivered_on + days * DAY
        if demand_deadline < earliest:
            raise ValidationFailed(
                f"催告缴费期限须在送达（{delivered_on:%Y-%m-%d}）后至少 {days} 天，即不早于 "
                f"{earliest:%Y-%m-%d}：起诉前须给业主合理的缴费期限（《民法典》第九百四十四条第二款）。",
                code="dunning.demand_period",
                field="demand_deadline",
            )
    if (
        demand_deadline is not None
        and delivery_status == DeliveryStatus.DELIVERED
        and delivered_on < timezone.localtime(now).date()
        and (not reason or not attachments)
    ):
        raise ValidationFailed(
            f"送达日期 {delivered_on:%Y-%m-%d} 早于登记日，属补登：请填写补登原因，并附签收单、"
            "邮寄凭证或现场照片等送达凭证（书面催告是起诉前的证据，《民法典》第九百四十四条"
            "第二款）。",
            code="dunning.late_delivery_entry",
            field="late_entry_reason",
        )
    return reason


def demand_for_legal_stage(
    case: ArrearsCase, on: datetime.date
) -> tuple[ContactRecord | None, str]:
    """The delivered written demand that lets ``case`` go to the legal stage on ``on`` (LAW.md §4),
    or ``None`` with why not: its deadline passed, at least the project's minimum period after the
    recorded delivery, the delivery not entered as in the future, and a delivery entered on a later
    day backed by a reason and a proof of delivery. Records corrected since do not count."""
    settings = rules.dunning_settings(case.project_id)
    days = rules.demand_min_days(settings)
    rows = (
        ContactRecord.objects.filter(
            case__account_id=case.account_id,
            channel__in=WRITTEN_CHANNELS,
            delivery_status=DeliveryStatus.DELIVERED,
            demand_deadline__isnull=False,
            corrections__isnull=True,
        )
        .annotate(proofs=Count("attachments"))
        .order_by("-demand_deadline", "-id")
    )
    why = "没有已送达并载明缴费期限的书面催告"
    for row in rows:
        delivered_on = timezone.localtime(row.at).date()
        entered_on = timezone.localtime(row.recorded_at).date()
        if row.demand_deadline >= on:
            why = f"书面催告载明的缴费期限 {row.demand_deadline:%Y-%m-%d} 尚未届满"
        elif row.demand_deadline < delivered_on + days * DAY:
            why = (
                f"书面催告的缴费期限 {row.demand_deadline:%Y-%m-%d} 距送达 {delivered_on:%Y-%m-%d} "
                f"不足 {days} 天，不是合理期限"
            )
        elif row.at > row.recorded_at + datetime.timedelta(minutes=5):
            why = f"书面催告登记的送达时间 {row.at:%Y-%m-%d %H:%M} 晚于登记时间"
        elif delivered_on < entered_on and not (row.late_entry_reason and row.proofs):
            why = f"书面催告的送达日 {delivered_on:%Y-%m-%d} 系事后补登，缺少补登原因或送达凭证"
        else:
            return row, ""
    return None, why


def case_set_stage(
    *, user: User, case: ArrearsCase, stage: str, reason: str, deadline: datetime.date | None = None
) -> ArrearsCase:
    """Moves a case to a later stage by decision (visit → written demand → lawyer letter → legal).

    The legal stage needs a project manager's or company administrator's decision and a recorded,
    delivered written demand whose payment deadline has passed (LAW.md §4).
    """
    role = _supervisor(user, case.project_id, "调整催缴阶段")
    stage = _choice(stage, Stage, "stage", "阶段")
    reason = _reason(reason)
    day = timezone.localdate()
    with transaction.atomic():
        case = ArrearsCase.objects.select_for_update().get(pk=case.pk)
        _open_or_refuse(case)
        if STAGE_ORDER.index(stage) <= STAGE_ORDER.index(case.stage):
            raise ValidationFailed(
                f"案件已在“{case.get_stage_display()}”阶段，只能向后推进", field="stage"
            )
        if stage == Stage.LEGAL:
            if role not in roles.LEGAL_APPROVER_ROLES:
                raise ValidationFailed("转入法律程序须由项目经理或公司管理员决定", field="stage")
            demand, why = demand_for_legal_stage(case, day)
            if demand is None:
                raise ValidationFailed(
                    f"转入法律程序前，须有已送达的书面催告，且其载明的缴费期限（送达后至少 "
                    f"{rules.demand_min_days(rules.dunning_settings(case.project_id))} 天）已过："
                    f"{why}（《民法典》第九百四十四条第二款：物业服务人应先催告业主在合理期限内"
                    "支付，期满仍不支付的，方可提起诉讼或申请仲裁）。",
                    code="dunning.no_demand",
                    field="stage",
                )
        old = case.stage
        _event(case, EventKind.STAGE, on=day, by=user, old=old, new=stage, reason=reason).save()
        case.stage, case.stage_since, case.stage_deadline = stage, day, deadline
        case.stage_action_done_on = None
        _apply_task(
            case, rules.dunning_settings(case.project_id), rules.follow_up_rules(case.project_id)
        )
        case.save()
        audit_record(
            user=user,
            action="催缴阶段",
            obj=case,
            project=case.project_id,
            changes={"stage": [old, stage], "reason": reason},
        )
    return case
