"""Segment rules as data: the defaults every project starts with, and their translation into one SQL
``CASE`` that assigns every credit file of a project its segment (first match in priority order wins)
together with the reason in words.

Seeded on first use (``ensure_segments``), like the dunning rules whose defaults live in code: a
project that never touched its segments gets these five, and editing them is editing rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from wuye.credit.models import FirstAction, ReminderChannel, Segment, Tone
from wuye.dunning.rules import DEFENCE_REFUSALS

# Why the catch-all shows nothing: a household without a single due bill has no history to judge.
NO_HISTORY = "暂无到期账单，无法判断"
NO_MATCH = "未符合任何分群规则"


# 长期拖欠 needs a long delay, not only many short ones: four months paid a few days late each is
# not "long-term arrears" (the panel beside it says 最长逾期 5 天).
CHRONIC_WORST_DAYS = 30
CHRONIC_DESCRIPTION = "近12个月有4个月以上逾期或欠费、且最长逾期30天以上：加密跟进、提早上门"
OLD_CHRONIC_DESCRIPTION = "近12个月有4个月以上逾期或欠费：加密跟进、提早上门"


@dataclass(frozen=True)
class DefaultSegment:
    code: str
    name: str
    priority: int
    description: str
    rule: dict
    strategy: dict


DEFAULT_SEGMENTS: list[DefaultSegment] = [
    DefaultSegment(
        "dispute",
        "有争议拒缴",
        10,
        "最近一次拒缴以房屋质量、服务或金额为由，且仍有欠费：先查清并解决问题（业主的抗辩可能成立：《民法典》第九百四十二条）",
        {"dispute_refusal": True, "min_overdue_amount": Decimal("0.01")},
        {
            "tone": Tone.NEUTRAL,
            "remind_days_before_due": 3,
            "reminder_channel": ReminderChannel.SMS,
            "call_cadence_days": 3,
        },
    ),
    DefaultSegment(
        "unreachable",
        "无法联系",
        20,
        "连续多次未联系上且仍有欠费：查找新号码、上门",
        {"min_unreached": 3, "min_overdue_amount": Decimal("0.01")},
        {
            "tone": Tone.NEUTRAL,
            "remind_days_before_due": 3,
            "reminder_channel": ReminderChannel.SMS,
            "call_cadence_days": 2,
            "offer_direct_debit": True,
        },
    ),
    DefaultSegment(
        "chronic",
        "长期拖欠",
        30,
        CHRONIC_DESCRIPTION,
        {"min_arrears_months_12": 4, "min_worst_days_late": CHRONIC_WORST_DAYS},
        {
            "tone": Tone.FIRM,
            "remind_days_before_due": 5,
            "reminder_channel": ReminderChannel.SMS,
            "call_cadence_days": 1,
            "escalate_after_days": 45,
            "offer_direct_debit": True,
        },
    ),
    DefaultSegment(
        "on_time",
        "按时缴费",
        40,
        "九成以上账单按时缴清，近12个月至多1个月逾期：以提醒和致谢为主，不催",
        {
            "min_bills": 3,
            "min_on_time_ratio": Decimal("0.9"),
            "max_arrears_months_12": 1,
        },
        {
            "tone": Tone.FRIENDLY,
            "remind_days_before_due": 3,
            "reminder_channel": ReminderChannel.SMS,
            "thank_after_payment": True,
            "first_action": FirstAction.SMS,
            "call_cadence_days": 3,
            "offer_pay_ahead": True,
        },
    ),
    DefaultSegment(
        "occasional",
        "偶尔逾期",
        50,
        "其余有缴费记录的住户：常规提醒与跟进",
        {"min_bills": 1},
        {
            "tone": Tone.NEUTRAL,
            "remind_days_before_due": 3,
            "reminder_channel": ReminderChannel.SMS,
            "thank_after_payment": True,
            "offer_direct_debit": True,
        },
    ),
]


def ensure_segments(project_id: int) -> list[Segment]:
    """The project's segments, the defaults created first when it has none (race-safe: the unique
    code per project lets a second caller's insert be ignored)."""
    segments = list(Segment.objects.filter(project_id=project_id).order_by("priority", "id"))
    if segments:
        return segments
    Segment.objects.bulk_create(
        [
            Segment(
                project_id=project_id,
                code=d.code,
                name=d.name,
                priority=d.priority,
                description=d.description,
                **d.rule,
                **d.strategy,
            )
            for d in DEFAULT_SEGMENTS
        ],
        ignore_conflicts=True,
    )
    return list(Segment.objects.filter(project_id=project_id).order_by("priority", "id"))


# --- rule → SQL ------------------------------------------------------------------------------------


def _pct(value: Decimal) -> str:
    return f"{(value * 100).normalize():f}%"


# The one-parameter bounds a segment may set: (Segment field, SQL over credit-file columns, the words
# of the reason), in the order the reason reads; the dispute condition sits between the two groups.
_BOUNDS_BEFORE_DISPUTE = (
    ("min_bills", "bills_count >= %s", lambda v: f"已到期账单 ≥ {v}"),
    (
        "min_on_time_ratio",
        "on_time_ratio IS NOT NULL AND on_time_ratio >= %s",
        lambda v: f"按时缴费率 ≥ {_pct(v)}",
    ),
    (
        "max_on_time_ratio",
        "on_time_ratio IS NOT NULL AND on_time_ratio <= %s",
        lambda v: f"按时缴费率 ≤ {_pct(v)}",
    ),
    ("min_arrears_months_12", "arrears_months_12 >= %s", lambda v: f"近12个月逾期 ≥ {v} 个月"),
    ("max_arrears_months_12", "arrears_months_12 <= %s", lambda v: f"近12个月逾期 ≤ {v} 个月"),
    ("min_months_in_arrears", "months_in_arrears >= %s", lambda v: f"当前欠费 ≥ {v} 个月"),
    (
        "min_worst_days_late",
        "worst_days_late IS NOT NULL AND worst_days_late >= %s",
        lambda v: f"最长逾期 ≥ {v} 天",
    ),
    ("max_months_in_arrears", "months_in_arrears <= %s", lambda v: f"当前欠费 ≤ {v} 个月"),
    (
        "min_overdue_amount",
        "overdue_amount >= %s",
        lambda v: "仍有欠费" if v <= Decimal("0.01") else f"当前欠费 ≥ {v} 元",
    ),
)
_BOUNDS_AFTER_DISPUTE = (
    ("min_unreached", "unreached_streak >= %s", lambda v: f"连续 ≥ {v} 次未联系上"),
    ("min_broken_promises", "promises_broken >= %s", lambda v: f"失约 ≥ {v} 次"),
)


def _bounds(segment: Segment, bounds) -> list[tuple[str, list, str]]:
    out = []
    for field, sql, words in bounds:
        value = getattr(segment, field)
        if value is not None:
            out.append((sql, [value], words(value)))
    return out


def conditions(segment: Segment) -> list[tuple[str, list, str]]:
    """The segment's conditions as (SQL over credit-file columns, params, words). Empty: matches all."""
    out = _bounds(segment, _BOUNDS_BEFORE_DISPUTE)
    if segment.dispute_refusal:
        reasons = sorted(DEFENCE_REFUSALS)
        out.append(
            (
                f"last_refusal_reason IN ({', '.join(['%s'] * len(reasons))})",
                [str(r) for r in reasons],
                "最近一次拒缴为争议理由",
            )
        )
    return out + _bounds(segment, _BOUNDS_AFTER_DISPUTE)


def rule_text(segment: Segment) -> str:
    words = [w for _, _, w in conditions(segment)]
    return "，".join(words) if words else "无条件（兜底）"


def case_sql(segments: list[Segment]) -> tuple[str, list, str, list]:
    """``CASE`` expressions for segment_id and segment_reason over the active segments in order."""
    id_parts, id_params, why_parts, why_params = [], [], [], []
    for segment in segments:
        if not segment.is_active:
            continue
        conds = conditions(segment)
        where = " AND ".join(f"({sql})" for sql, _, _ in conds) or "1 = 1"
        params = [p for _, ps, _ in conds for p in ps]
        id_parts.append(f"WHEN {where} THEN %s")
        id_params += [*params, segment.pk]
        why_parts.append(f"WHEN {where} THEN %s")
        why_params += [*params, f"{segment.name}：{rule_text(segment)}"[:300]]
    if not id_parts:
        return "NULL", [], "%s", [NO_MATCH]
    id_sql = f"CASE {' '.join(id_parts)} ELSE NULL END"
    why_sql = f"CASE {' '.join(why_parts)} WHEN bills_count = 0 THEN %s ELSE %s END"
    return id_sql, id_params, why_sql, [*why_params, NO_HISTORY, NO_MATCH]
