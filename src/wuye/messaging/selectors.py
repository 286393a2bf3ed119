"""Reads: the talking points of a case, the template of a kind, the outbox."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q, QuerySet

from wuye.core import hooks
from wuye.core.money import money
from wuye.dunning.enums import CaseClass
from wuye.dunning.models import ArrearsCase, ContactRecord
from wuye.ledger.selectors.window import unpaid_bills
from wuye.messaging import defaults
from wuye.messaging.models import LetterSettings, MessageTemplate, OutboxMessage, TalkingPoint

LAW_FIRM_MISSING = (
    "律师函不能生成：本项目尚未设置受托律师事务所。请公司管理员在“系统配置 › 话术与消息 › 律师函设置”"
    "中为本项目填写律师事务所名称（及委托人全称、承办律师）后再生成。"
)


@dataclass(frozen=True)
class DemandLine:
    period: str
    item: str
    due_date: datetime.date
    principal: Decimal
    late_fee: Decimal  # capped at the lawful rate, less waivers and late fees billed already


def demand_lines(case: ArrearsCase, on: datetime.date) -> tuple[list[DemandLine], Decimal, Decimal]:
    """The household's overdue bills on ``on`` with their late fee kept apart, and the two totals.
    A demand's text (amount, fee items) and its table both come from here."""
    lines = [
        DemandLine(
            f"{b.period_start:%Y-%m}" if b.period_start else "",
            b.fee_item.name,
            b.due_date,
            b.outstanding,
            b.late_fee.due,
        )
        for b in unpaid_bills(case.account, on)
        if b.due_date < on
    ]
    principal = money(sum((x.principal for x in lines), Decimal("0")))
    late = money(sum((x.late_fee for x in lines), Decimal("0")))
    return lines, principal, late


def fee_items_named(lines: list[DemandLine]) -> str:
    """The fee items a demand covers, in the order they first appear: 物业服务费、公摊电费、垃圾清运费."""
    return "、".join(dict.fromkeys(line.item for line in lines))


@dataclass(frozen=True)
class Signatories:
    principal: str  # 委托人: the property company the letter is written for
    law_firm: str  # blank = not set: a lawyer letter is refused
    lawyer: str
    law_firm_phone: str


def signatories(case: ArrearsCase) -> Signatories:
    """Who writes and signs a project's demand letters (``LetterSettings``; the company's name when
    the principal is left blank)."""
    row = LetterSettings.objects.filter(project_id=case.project_id).first()
    company = case.project.company.name
    if row is None:
        return Signatories(company, "", "", "")
    return Signatories(
        row.principal.strip() or company,
        row.law_firm.strip(),
        row.lawyer.strip(),
        row.law_firm_phone.strip(),
    )


@dataclass(frozen=True)
class Point:
    key: str  # a class ("A") or a refusal reason ("leak")
    title: str
    body: str


def _rows(model, company_id: int, project_id: int) -> QuerySet:
    # Company rows first, project rows last: iterating into a dict lets the project's win.
    return model.objects.filter(
        Q(project__isnull=True, company_id=company_id) | Q(project_id=project_id)
    ).order_by("project_id", "id")


def talking_point_table(company_id: int, project_id: int) -> dict[str, Point]:
    """Every talking point of a project keyed by class or refusal reason: defaults, overridden by the
    company's rows, overridden by the project's. One query."""
    table = {k: Point(k, t, b) for k, (t, b) in defaults.CLASS_POINTS.items()}
    table |= {k: Point(k, t, b) for k, (t, b) in defaults.REASON_POINTS.items()}
    company_rows, project_rows = [], []
    for row in _rows(TalkingPoint, company_id, project_id):
        (project_rows if row.project_id else company_rows).append(row)
    for row in company_rows + project_rows:
        key = row.case_class or row.refusal_reason
        table[key] = Point(key, row.title, row.body)
    return table


def last_refusal(case: ArrearsCase) -> str:
    if case.case_class != CaseClass.E:
        return ""
    # Today's cards come with their latest contact loaded: usually the refusal itself, no query.
    latest = getattr(case, "last_contact", None)
    if latest is not None and latest.refusal_reason:
        return latest.refusal_reason
    return (
        ContactRecord.objects.filter(case=case)
        .exclude(refusal_reason="")
        .order_by("-at", "-id")
        .values_list("refusal_reason", flat=True)
        .first()
        or ""
    )


def talking_points_for(case: ArrearsCase, table: dict[str, Point] | None = None) -> list[Point]:
    """What to say to this household: the point of its class (B's opener while unclassified), the
    point of its latest refusal reason for class E, and how to pay from afar."""
    if table is None:
        table = talking_point_table(case.project.company_id, case.project_id)
    points = [table[case.case_class or CaseClass.B]]
    if reason := last_refusal(case):
        points.append(table[reason])
    if case.case_class != CaseClass.D:
        points.append(Point("remote", "远程缴费方式", defaults.REMOTE_PAYMENT))
    return points


def points_context(case: ArrearsCase) -> dict:
    """What a case's talking points show (the case page, and a card of today's list when opened):
    the points and the panels apps above messaging add to them."""
    return {
        "case": case,
        "points": talking_points_for(case),
        "panels": hooks.panels("WUYE_TALKING_POINT_PANELS"),
    }


def template_for(company_id: int, project_id: int, kind: str) -> tuple[str, str]:
    """(title, body) of the template of ``kind``: the project's row, else the company's, else the
    default."""
    found = defaults.TEMPLATES[kind]
    for row in _rows(MessageTemplate, company_id, project_id).filter(kind=kind):
        found = (row.title, row.body)
    return found


def outbox(project_ids, status: str = "") -> QuerySet[OutboxMessage]:
    rows = OutboxMessage.objects.filter(project_id__in=project_ids).select_related(
        "case__room", "by"
    )
    return rows.filter(status=status) if status else rows
