"""Writes of the credit app: recomputing credit files (whole project or one account), segmenting them,
and editing segments.

The recompute is set-based: ``selectors.credit_rows`` reads every figure in a fixed number of grouped
queries, the files are upserted in batches (``INSERT … ON CONFLICT (account) DO UPDATE`` on both
SQLite and PostgreSQL), and one ``UPDATE … SET segment = CASE …`` assigns the segments. The one-account
variant runs the same SQL restricted to that account; it is what the ledger (after a payment or a
reversal) and dunning (after a contact) call through their settings hooks.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from wuye.core import roles
from wuye.core.audit import audit_record, diff, snapshot
from wuye.core.errors import NotInScope, ValidationFailed, fields_allowed, full_clean
from wuye.core.models import Project, User
from wuye.core.scope import role_in
from wuye.credit import segments as seg
from wuye.credit.models import CreditFile, Segment
from wuye.credit.selectors import CreditRow, credit_rows

BATCH = 2000
# From this many files on, PostgreSQL upserts through COPY into a staging table.
COPY_FROM = 50
Progress = Callable[[str], None]

# The figures the recompute writes (everything but the segment, which the CASE update sets).
FIGURE_FIELDS = [
    "project",
    "room",
    "as_of",
    "computed_at",
    "bills_count",
    "on_time_count",
    "late_count",
    "unpaid_count",
    "on_time_ratio",
    "avg_days_late",
    "worst_days_late",
    "months_in_arrears",
    "arrears_months_12",
    "overdue_amount",
    "oldest_due_date",
    "paid_ahead_count",
    "prepaid_balance",
    "prepaid_months",
    "last_payment_on",
    "contacts_count",
    "unreached_streak",
    "last_contact_at",
    "promises_made",
    "promises_kept",
    "promises_broken",
    "refusals",
    "refusal_reasons",
    "last_refusal_reason",
    "open_complaints",
    "open_legacy_issues",
    "vacant",
    "history",
]


@dataclass
class RecomputeResult:
    project_id: int
    as_of: datetime.date
    files: int = 0
    segmented: dict[str, int] | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "project_id": self.project_id,
            "as_of": self.as_of.isoformat(),
            "files": self.files,
            "segmented": self.segmented or {},
        }


# Row attributes of ``CreditRow`` per column (the rest are the project, the day and the time).
_ROW_FIELDS = [f for f in FIGURE_FIELDS if f not in {"project", "room", "as_of", "computed_at"}]
_JSON_FIELDS = {"refusal_reasons", "history"}


def _upsert(rows: list[CreditRow], project_id: int, on: datetime.date, now) -> None:
    """``INSERT … ON CONFLICT (account_id) DO UPDATE`` (SQLite ≥ 3.24 and PostgreSQL alike), with
    the values adapted here once per type: the ORM's ``bulk_create`` spends most of a 100,000-row
    recompute preparing values field by field."""
    pg = connection.vendor == "postgresql"
    ops = connection.ops
    # segment_reason is written on insert only (NOT NULL, no database default): the segment UPDATE
    # that follows sets it, and an update of the figures must not wipe it in between.
    columns = [
        "account_id",
        "project_id",
        "room_id",
        "as_of",
        "computed_at",
        "segment_reason",
        *_ROW_FIELDS,
    ]
    meta = CreditFile._meta
    names = [
        meta.get_field(c[:-3] if c.endswith("_id") else c).column for c in columns
    ]  # account_id → account → column
    marks = ", ".join(
        "CAST(%s AS JSONB)" if pg and name in _JSON_FIELDS else "%s" for name in columns
    )
    quoted = [ops.quote_name(n) for n in names]
    keep = {ops.quote_name("account_id"), ops.quote_name("segment_reason")}
    updates = ", ".join(f"{q} = excluded.{q}" for q in quoted if q not in keep)
    table = ops.quote_name(meta.db_table)
    sql = (
        f"INSERT INTO {table} ({', '.join(quoted)}) VALUES ({marks}) "  # noqa: S608
        f"ON CONFLICT ({ops.quote_name('account_id')}) DO UPDATE SET {updates}"
    )

    def value(v: object) -> object:
        if pg or v is None or isinstance(v, (int, str)):
            return v
        if isinstance(v, Decimal):
            return str(v)
        if isinstance(v, datetime.datetime):
            return ops.adapt_datetimefield_value(v)
        if isinstance(v, datetime.date):
            return v.isoformat()
        return v

    day, stamp = value(on), value(now)
    data = []
    for row in rows:
        values = [row.account_id, project_id, row.room_id, day, stamp, ""]
        for name in _ROW_FIELDS:
            v = row.history_json if name == "history" else getattr(row, name)
            if name == "refusal_reasons":
                v = json.dumps(v, ensure_ascii=False) if v else "{}"
            elif isinstance(v, bool):
                v = v if pg else int(v)
            else:
                v = value(v)
            values.append(v)
        data.append(values)
    with connection.cursor() as cursor:
        if pg and len(data) > COPY_FROM:  # one household (the hooks): a plain INSERT is quicker
            _upsert_copy(cursor, table, quoted, updates, data)
            return
        for start in range(0, len(data), BATCH):
            cursor.executemany(sql, data[start : start + BATCH])


def _upsert_copy(cursor, table: str, quoted: list[str], updates: str, data: list[list]) -> None:
    """PostgreSQL: COPY the rows into a temporary table of the same columns, then one
    ``INSERT … SELECT … ON CONFLICT``: ``executemany`` costs a round trip per row there (35 s for
    100,000 files against 2 s this way)."""
    stage = "credit_stage_tmp"
    names = ", ".join(quoted)
    cursor.execute(f"DROP TABLE IF EXISTS {stage}")
    cursor.execute(f"CREATE TEMP TABLE {stage} AS SELECT {names} FROM {table} WITH NO DATA")  # noqa: S608
    with cursor.cursor.copy(f"COPY {stage} ({names}) FROM STDIN") as copy:
        for row in data:
            copy.write_row(row)
    cursor.execute(
        f"INSERT INTO {table} ({names}) SELECT {names} FROM {stage} "  # noqa: S608
        f"ON CONFLICT ({quoted[0]}) DO UPDATE SET {updates}"
    )
    cursor.execute(f"DROP TABLE {stage}")


def credit_recompute(
    *,
    project: Project | int,
    on: datetime.date | None = None,
    account_ids: list[int] | None = None,
    progress: Progress | None = None,
) -> RecomputeResult:
    """Recomputes the credit files of the project's accounts (or of ``account_ids``) as of ``on``
    (default today), then their segments. Idempotent; all or nothing."""
    project_id = project.pk if isinstance(project, Project) else project
    day = on or timezone.localdate()
    say = progress or (lambda text: None)
    result = RecomputeResult(project_id=project_id, as_of=day)
    segments = seg.ensure_segments(project_id)
    rows = credit_rows(project_id, day, account_ids)
    say(f"已读取 {len(rows)} 户的账单、缴费与催缴记录（截至 {day:%Y-%m-%d}）")
    now = timezone.now()
    with transaction.atomic():
        _upsert(list(rows.values()), project_id, day, now)
        say(f"已写入 {len(rows)} 户信用档案")
        _segment(project_id, segments, account_ids)
    result.files = len(rows)
    if account_ids is None:
        counts = dict(
            CreditFile.objects.filter(project_id=project_id)
            .order_by()
            .values_list("segment__name")
            .annotate(n=Count("id"))
            .values_list("segment__name", "n")
        )
        result.segmented = {str(k or "未分群"): v for k, v in counts.items()}
        say("分群：" + "，".join(f"{k} {v} 户" for k, v in result.segmented.items()))
    return result


def _segment(project_id: int, segments: list[Segment], account_ids: list[int] | None) -> int:
    """One UPDATE: every credit file of the project (or of ``account_ids``) gets the first segment
    whose rule it meets, and the reason in words."""
    id_sql, id_params, why_sql, why_params = seg.case_sql(segments)
    table = connection.ops.quote_name(CreditFile._meta.db_table)
    where = "project_id = %s"
    params: list = [project_id]
    if account_ids is not None:
        where += f" AND account_id IN ({', '.join(['%s'] * len(account_ids))})"
        params += list(account_ids)
    sql = f"UPDATE {table} SET segment_id = {id_sql}, segment_reason = {why_sql} WHERE {where}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [*id_params, *why_params, *params])
        return cursor.rowcount


def credit_refresh_account(account_id: int, on: datetime.date | None = None) -> CreditFile | None:
    """The incremental update: the same computation restricted to one account."""
    from wuye.billing.models import Account

    project_id = Account.objects.filter(pk=account_id).values_list("project_id", flat=True).first()
    if project_id is None:
        return None
    credit_recompute(project=project_id, on=on, account_ids=[account_id])
    return CreditFile.objects.filter(account_id=account_id).first()


def segments_apply(project_id: int) -> int:
    """Re-segments every credit file of the project with its current rules (after an edit)."""
    with transaction.atomic():
        return _segment(project_id, seg.ensure_segments(project_id), None)


# --- hooks -----------------------------------------------------------------------------------------


def credit_refresh_accounts(account_ids: list[int]) -> int:
    """Recomputes the credit files of these accounts, one recompute per project; how many."""
    from wuye.billing.models import Account

    by_project: dict[int, list[int]] = {}
    for account_id, project_id in Account.objects.filter(pk__in=list(account_ids)).values_list(
        "pk", "project_id"
    ):
        by_project.setdefault(project_id, []).append(account_id)
    for project_id, ids in sorted(by_project.items()):
        credit_recompute(project=project_id, account_ids=sorted(ids))
    return sum(len(ids) for ids in by_project.values())


# --- editing segments ------------------------------------------------------------------------------

# The segment's rule (who belongs) and strategy (what is done for them), as the edit form groups them.
RULE_FIELDS = [
    "min_bills",
    "min_on_time_ratio",
    "max_on_time_ratio",
    "min_arrears_months_12",
    "max_arrears_months_12",
    "min_months_in_arrears",
    "min_worst_days_late",
    "max_months_in_arrears",
    "min_overdue_amount",
    "dispute_refusal",
    "min_unreached",
    "min_broken_promises",
]
STRATEGY_FIELDS = [
    "remind_days_before_due",
    "reminder_channel",
    "reminder_template",
    "tone",
    "thank_after_payment",
    "thank_template",
    "first_action",
    "call_cadence_days",
    "escalate_after_days",
    "offer_direct_debit",
    "offer_pay_ahead",
]
EDITABLE_FIELDS = ["name", "priority", "is_active", "description", *RULE_FIELDS, *STRATEGY_FIELDS]


def escalation_floor(project_id: int) -> int:
    """The fewest days after the oldest due date a strategy may send a case to a door visit: the
    project's filing grace plus its first-call deadline, so the household always gets the first call
    of SPEC §5 step 4 before anyone knocks."""
    from wuye.dunning.rules import dunning_settings

    settings = dunning_settings(project_id)
    return settings.grace_days + settings.first_call_days


def _editor(user: User, project_id: int) -> None:
    role = role_in(user, project_id)
    if role is None:
        raise NotInScope("您没有该项目的权限。")
    if role not in roles.SEGMENT_EDITOR_ROLES:
        raise ValidationFailed("只有客服主管、项目经理可以修改客户分群与策略。", field="user")


def segment_update(*, user: User, segment: Segment, **values) -> Segment:
    """Edits a segment's rule and strategy, then re-segments the project's credit files at once."""
    _editor(user, segment.project_id)
    fields_allowed(values, EDITABLE_FIELDS, refusal="不可修改的字段")
    before = snapshot(segment, EDITABLE_FIELDS)
    for name, value in values.items():
        setattr(segment, name, value)
    _check_strategy(segment)
    full_clean(segment)
    with transaction.atomic():
        segment.save()
        segments_apply(segment.project_id)
        audit_record(
            user=user,
            action="修改客户分群",
            obj=segment,
            project=segment.project_id,
            changes=diff(before, snapshot(segment, EDITABLE_FIELDS)),
        )
    return segment


def _check_strategy(segment: Segment) -> None:
    from wuye.dunning.rules import FORBIDDEN_MESSAGE, forbidden_measure

    if segment.escalate_after_days is not None:
        floor = escalation_floor(segment.project_id)
        if segment.escalate_after_days < floor:
            raise ValidationFailed(
                f"欠费转上门天数不能少于 {floor} 天（立案宽限 + 首次电话期限）："
                "上门前须先电话提醒（本公司催缴流程：先电话提醒、分类跟进，再上门）。",
                field="escalate_after_days",
            )
    for template in (segment.reminder_template, segment.thank_template):
        if template is not None and template.company_id != segment.project.company_id:
            raise ValidationFailed("只能选用本公司的消息模板", field="reminder_template")
        if template is not None and template.project_id not in (None, segment.project_id):
            raise ValidationFailed("只能选用本项目或全公司的消息模板", field="reminder_template")
    for name in ("name", "description"):
        if word := forbidden_measure(getattr(segment, name) or ""):
            raise ValidationFailed(f"“{word}”：{FORBIDDEN_MESSAGE}", field=name)
