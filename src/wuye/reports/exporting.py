"""Excel exports of the reports, and the store of background export jobs.

Every workbook has the same shape, so a finance clerk can file them side by side: the title in row 1,
the filters in row 2, the as-of date in row 3, the export time in row 4, a blank row, the headers, then
the rows. Money cells are numbers with the ``#,##0.00`` format (they sum in Excel); rates are numbers
with a percent format; a rate without a denominator is the text "—", never 0% or 100%.

A background export (``export_tasks.report_export``) writes ``<job>.xlsx`` beside a small
``<job>.json`` that holds who asked for it and how far it got, in the default file storage
(``MEDIA_ROOT/report_exports``): no table is needed for a file that lives a day.
"""

from __future__ import annotations

import datetime
import json
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from wuye.core import xlsx
from wuye.core.privacy import NAMED_LIST_MARK
from wuye.dunning.enums import Stage

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MONEY_FORMAT = "#,##0.00"
RATE_FORMAT = "0.00%"
EXPORT_DIR = "report_exports"
# Finished exports are kept this long, then swept when the next export starts.
EXPORT_KEEP = datetime.timedelta(days=1)
PROGRESS_EVERY = 1000  # rows between two progress writes


@dataclass(frozen=True)
class Column:
    label: str
    kind: str = "text"  # text / money / rate / int / date
    width: int = 14


@dataclass
class Sheet:
    title: str
    filters: list[tuple[str, str]]
    as_of: datetime.date
    columns: list[Column]
    rows: Iterable[Sequence[Any]]
    row_count: int | None = None
    notes: list[str] = field(default_factory=list)
    named: bool = False  # lists named debtors: marked internal (core.privacy) on screen and paper


def _cell(ws, column: Column, value):
    if value is None:
        return xlsx.cell(ws, "—" if column.kind in ("rate", "money") else "")
    if value == "":
        return xlsx.cell(ws, value)
    if column.kind == "money":
        return xlsx.cell(ws, Decimal(value), number_format=MONEY_FORMAT)
    if column.kind == "rate":
        return xlsx.cell(ws, Decimal(value), number_format=RATE_FORMAT)
    if column.kind == "date":
        return xlsx.cell(ws, value, number_format="yyyy-mm-dd")
    return xlsx.cell(ws, value)


def workbook_bytes(sheet: Sheet, progress: Callable[[int], None] | None = None) -> bytes:
    """``sheet`` as an .xlsx file. ``progress`` is called with the rows written so far."""
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = xlsx.workbook()
    ws = book.create_sheet(sheet.title[:31])
    for i, column in enumerate(sheet.columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = column.width

    def bold(text: str, size: int | None = None):
        return xlsx.cell(ws, text, font=Font(bold=True, size=size) if size else Font(bold=True))

    ws.append([bold(sheet.title, 14)])
    if sheet.named:
        ws.append([xlsx.cell(ws, NAMED_LIST_MARK, font=Font(bold=True, color="C00000"))])
        ws.oddHeader.center.text = NAMED_LIST_MARK  # on every printed page
        ws.oddFooter.center.text = NAMED_LIST_MARK
    ws.append([f"{label}：{value}" for label, value in sheet.filters])
    ws.append([f"截至日期：{sheet.as_of:%Y-%m-%d}"])
    ws.append([f"导出时间：{timezone.localtime():%Y-%m-%d %H:%M}"])
    for note in sheet.notes:
        ws.append([note])
    ws.append([])
    ws.append([bold(c.label) for c in sheet.columns])
    written = 0
    for row in sheet.rows:
        ws.append([_cell(ws, c, v) for c, v in zip(sheet.columns, row, strict=False)])
        written += 1
        if progress and written % PROGRESS_EVERY == 0:
            progress(written)
    content = xlsx.save(book)
    if progress:
        progress(written)
    return content


def header_rows(sheet: Sheet) -> int:
    """How many rows come before the first data row (the header row included)."""
    return 4 + (1 if sheet.named else 0) + len(sheet.notes) + 2


# --- background export jobs ---------------------------------------------------------------------


def _path(job_id: str, ext: str) -> str:
    return f"{EXPORT_DIR}/{job_id}.{ext}"


def job_create(*, user_id: int, kind: str, params: dict, title: str, rows: int) -> str:
    """Records a queued export and returns its id (a random uuid: the id is the download's name)."""
    sweep_old_jobs()
    job_id = uuid.uuid4().hex
    job_write(
        job_id,
        {
            "id": job_id,
            "user_id": user_id,
            "kind": kind,
            "params": params,
            "title": title,
            "status": "queued",
            "total": rows,
            "done": 0,
            "error": "",
            "created": timezone.now().isoformat(),
        },
    )
    return job_id


def job_write(job_id: str, data: dict) -> None:
    path = _path(job_id, "json")
    if default_storage.exists(path):
        default_storage.delete(path)
    default_storage.save(path, ContentFile(json.dumps(data, ensure_ascii=False).encode()))


def job_read(job_id: str) -> dict | None:
    if not job_id.isalnum() or len(job_id) != 32:
        return None
    path = _path(job_id, "json")
    if not default_storage.exists(path):
        return None
    with default_storage.open(path) as fh:
        return json.loads(fh.read().decode())


def job_update(job_id: str, **changes) -> dict:
    data = job_read(job_id) or {}
    data.update(changes)
    job_write(job_id, data)
    return data


def job_save_file(job_id: str, content: bytes) -> None:
    path = _path(job_id, "xlsx")
    if default_storage.exists(path):
        default_storage.delete(path)
    default_storage.save(path, ContentFile(content))


def job_open_file(job_id: str):
    return default_storage.open(_path(job_id, "xlsx"))


def job_percent(job: dict) -> int:
    if job.get("status") == "done":
        return 100
    total = job.get("total") or 0
    return min(99, job.get("done", 0) * 100 // total) if total else 0


def sweep_old_jobs() -> None:
    """Deletes exports older than ``EXPORT_KEEP``; cheap, so it runs whenever an export starts."""
    try:
        _, files = default_storage.listdir(EXPORT_DIR)
    except FileNotFoundError:
        return
    cutoff = timezone.now() - EXPORT_KEEP
    for name in files:
        path = f"{EXPORT_DIR}/{name}"
        try:
            if default_storage.get_modified_time(path) < cutoff:
                default_storage.delete(path)
        except (FileNotFoundError, NotImplementedError):
            continue


# --- the reports: their figures (for the page) and their sheets (for Excel) ----------------------

TITLES = {
    "rates": "收缴率报表",
    "aging": "账龄报表",
    "debtors": "欠费大户",
    "breakdown": "欠费分类与拒交原因",
    "promises": "承诺兑现率",
    "households": "数字背后的住户",
}
WINDOW_LABELS = {"month": "本月", "year": "本年", "custom": "自定义"}


def _window(f: dict):
    from wuye.reports.sql import Window

    return Window(f["start"], f["end"])


def filter_labels(access, f: dict, *, window: bool = True) -> list[tuple[str, str]]:
    """The filters as the header rows of a workbook and the subtitle of a printed page."""
    project = next((p.name for p in access.projects if p.pk == f.get("project")), None)
    labels = [("项目", project or f"全部项目（{len(access.projects)} 个）")]
    if access.own_only:
        labels.append(("范围", "本人负责的楼栋"))
    if window:
        labels.append(
            (
                "统计区间",
                f"{f['start']:%Y-%m-%d} 至 {f['end']:%Y-%m-%d}"
                f"（{WINDOW_LABELS.get(f.get('window'), '自定义')}）",
            )
        )
    return labels


def _payer(user, row) -> str:
    from wuye.core.masking import mask_name
    from wuye.reports.access import sees_names

    return row.payer_name if sees_names(user, row.project_id) else mask_name(row.payer_name)


def _rate_columns() -> list[Column]:
    return [
        Column("本期应收（元）", "money"),
        Column("本期实收（元）", "money"),
        Column("当期收缴率", "rate", 11),
        Column("期初欠费（元）", "money"),
        Column("清欠金额（元）", "money"),
        Column("清欠率", "rate", 10),
        Column("综合收缴率", "rate", 11),
        Column("应缴户数", "int", 9),
        Column("无逾期户数", "int", 9),
        Column("户数收缴率（无逾期）", "rate", 11),
        Column("已全部缴清户数（含未到期）", "int", 11),
        Column("滞纳金应收（元）", "money"),
        Column("滞纳金实收（元）", "money"),
    ]


def _rate_values(r) -> list:
    return [
        r.current_billed,
        r.current_received,
        r.current_rate,
        r.opening_arrears,
        r.recovered,
        r.recovery_rate,
        r.overall_rate,
        r.households_billed,
        r.households_clear,
        "未到期" if r.household_not_due else r.household_rate,
        r.households_paid,
        r.late_fee_billed,
        r.late_fee_received,
    ]


def report_data(kind: str, user, access, f: dict) -> dict:
    """The figures of one report, straight from the selectors."""
    from wuye.reports import selectors
    from wuye.reports.figures import AGING_LABELS, households_url

    scope = access.scope(f.get("project"))
    as_of = f["as_of"]
    if kind == "rates":
        group = f.get("group") or "project"
        rows = selectors.collection_rates(scope, _window(f), as_of, group)
        total = (
            rows[0]
            if group == "company"
            else selectors.collection_rates(scope, _window(f), as_of, "company")[0]
        )
        for r in [*rows, total]:
            # A row without key is the total (or the "no steward" group): its households are the
            # whole scope's.
            grouped = {"group": group, "key": r.key} if r.key and r is not total else {}
            r.links = {
                figure: households_url(f, figure=figure, **grouped)
                for figure in ("current_unpaid", "recovery_unpaid", "not_clear")
            }
        return {"rows": rows, "total": total, "group": group}
    if kind == "aging":
        raw = selectors.aging(scope, as_of, "building", split_developer=True)
        by_building: dict = {}
        total = {"handed": [ZERO_M] * 6, "developer": [ZERO_M] * 6, "accounts": [0] * 6}
        for r in raw:
            b = by_building.setdefault(
                r.key,
                {
                    "key": r.key,
                    "label": r.label,
                    "handed": [ZERO_M] * 6,
                    "developer": [ZERO_M] * 6,
                    "accounts": [0] * 6,
                },
            )
            side = "developer" if r.developer else "handed"
            b[side] = [a + x for a, x in zip(b[side], r.buckets, strict=True)]
            b["accounts"] = [a + x for a, x in zip(b["accounts"], r.counts, strict=True)]
            total[side] = [a + x for a, x in zip(total[side], r.buckets, strict=True)]
            total["accounts"] = [a + x for a, x in zip(total["accounts"], r.counts, strict=True)]
        rows = []
        for b in by_building.values():
            b["buckets"] = [h + d for h, d in zip(b["handed"], b["developer"], strict=True)]
            b["total"] = sum(b["buckets"], ZERO_M)
            b["developer_total"] = sum(b["developer"], ZERO_M)
            b["links"] = [
                households_url(f, figure="aging", bucket=i, group="building", key=b["key"])
                for i in range(6)
            ]
            if b["total"]:
                rows.append(b)
        total["buckets"] = [h + d for h, d in zip(total["handed"], total["developer"], strict=True)]
        total["total"] = sum(total["buckets"], ZERO_M)
        total["developer_total"] = sum(total["developer"], ZERO_M)
        total["links"] = [households_url(f, figure="aging", bucket=i) for i in range(6)]
        return {"rows": rows, "total": total, "labels": AGING_LABELS}
    if kind == "debtors":
        rows = selectors.top_debtors(scope, as_of, f.get("limit") or 50)
        for r in rows:
            r.payer = _payer(user, r)
        return {"rows": rows, "limit": f.get("limit") or 50}
    if kind == "breakdown":
        classes = selectors.arrears_by_class(scope, as_of)
        reasons = selectors.arrears_by_reason(scope, as_of)
        for r in classes:
            r.url = households_url(f, figure="class", key=r.key)
        for r in reasons:
            r.url = households_url(f, figure="reason", key=r.key)
        return {
            "classes": classes,
            "reasons": reasons,
            "class_total": (
                sum(r.cases for r in classes),
                sum((r.amount for r in classes), ZERO_M),
            ),
            "reason_total": (
                sum(r.cases for r in reasons),
                sum((r.amount for r in reasons), ZERO_M),
            ),
        }
    if kind == "promises":
        rows = selectors.promise_kept_by_steward(scope, _window(f))
        promises = sum(r.promises for r in rows)
        kept = sum(r.kept for r in rows)
        return {
            "rows": rows,
            "promises": promises,
            "kept": kept,
            "rate": (Decimal(kept) / promises).quantize(Decimal("0.0001")) if promises else None,
        }
    raise ValueError(kind)


ZERO_M = Decimal("0.00")


def _behind_question(f: dict) -> dict:
    return {
        "figure": f["figure"],
        "window": _window(f),
        "as_of": f["as_of"],
        "key": f.get("key"),
        "bucket": f.get("bucket"),
        "group_by": f.get("group") or "company",
        "developer": f.get("developer"),
    }


def _for_display(user, rows: list) -> list:
    stages = dict(Stage.choices)
    for r in rows:
        r.payer = _payer(user, r)
        r.stage_label = str(stages.get(r.stage, r.stage))
    return rows


def households_rows(user, access, f: dict) -> list:
    """The households behind one figure, payer names masked for roles that do not contact owners."""
    from wuye.reports import selectors

    rows = selectors.accounts_behind(
        access.scope(f.get("project")), **_behind_question(f), limit=f.get("limit")
    )
    return _for_display(user, rows)


class HouseholdPages:
    """The households behind one figure as a list a Paginator reads page by page: the count and the
    total in one statement, each page in another, so a company-wide figure (100,000s of households)
    never loads every household (the top-debtors figure is short and loads whole)."""

    def __init__(self, user, access, f: dict) -> None:
        self.user, self.f = user, f
        self.scope = access.scope(f.get("project"))
        self.question = _behind_question(f)
        self.cap = f.get("limit")
        self._totals: tuple[int, Decimal] | None = None

    def _count_and_total(self) -> tuple[int, Decimal]:
        from wuye.reports import selectors

        if self._totals is None:
            self._totals = selectors.behind_totals(self.scope, **self.question, limit=self.cap)
        return self._totals

    def count(self) -> int:
        return self._count_and_total()[0]

    @property
    def total(self) -> Decimal:
        return self._count_and_total()[1]

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, part: slice) -> list:
        from wuye.reports import selectors

        start, stop = part.start or 0, part.stop
        if self.cap:
            stop = min(stop, self.cap) if stop is not None else self.cap
        if stop is not None and stop <= start:
            return []
        rows = selectors.accounts_behind(
            self.scope,
            **self.question,
            limit=None if stop is None else stop - start,
            offset=start,
        )
        return _for_display(self.user, rows)


def estimated_rows(kind: str, f: dict) -> int:
    """How many rows a report's export will have, known before computing it (the households list
    is counted by computing it: see ``views._export``)."""
    if kind == "debtors":
        return f.get("limit") or 50
    return 0


def filename(sheet: Sheet) -> str:
    return f"{sheet.title}-{sheet.as_of:%Y%m%d}.xlsx"


def build_sheet(kind: str, user, access, f: dict, rows: list | None = None) -> Sheet:
    """The workbook of one report with the same figures as its page (``rows``: the households list
    when the caller has already computed it)."""
    from wuye.reports.forms import FIGURES, GROUP_LABELS

    as_of = f["as_of"]
    title = TITLES[kind]
    if kind == "households":
        rows = households_rows(user, access, f) if rows is None else rows
        filters = filter_labels(access, f) + [("数字", FIGURES[f["figure"]])]
        if f.get("bucket") is not None:
            from wuye.reports.figures import AGING_LABELS

            filters.append(("账龄段", AGING_LABELS[f["bucket"]]))
        return Sheet(
            title,
            filters,
            as_of,
            [
                Column("项目", width=12),
                Column("房号", width=14),
                Column("缴费人", width=14),
                Column("金额（元）", "money"),
                Column("最早到期日", "date", 12),
                Column("账单数", "int", 8),
                Column("案件分类", width=10),
                Column("催缴阶段", width=12),
            ],
            (
                [
                    r.project_name,
                    r.room_code,
                    r.payer,
                    r.amount,
                    r.oldest_due_date,
                    r.bills or None,
                    r.case_class,
                    r.stage_label,
                ]
                for r in rows
            ),
            row_count=len(rows),
            named=True,
        )
    data = report_data(kind, user, access, f)
    if kind == "rates":
        rows = [[r.label, *_rate_values(r)] for r in data["rows"]]
        if data["group"] != "company":
            rows.append(["合计", *_rate_values(data["total"])])
        return Sheet(
            title,
            filter_labels(access, f) + [("分组", GROUP_LABELS[data["group"]])],
            as_of,
            [
                Column(GROUP_LABELS[data["group"]].removeprefix("按") or "范围", width=18),
                *_rate_columns(),
            ],
            rows,
            notes=[
                "金额均为本金；滞纳金单列。收缴率无分母（应收为 0）时记为“—”。"
                "户数收缴率 = 无逾期户 ÷ 应缴户（无逾期：本期账单中已到期的都已缴清）；本期账单都未到缴费"
                "期限时记为“未到期”。已全部缴清户 = 本期账单（含未到期的）都已缴清的住户。"
            ],
        )
    if kind == "aging":
        labels = data["labels"]
        cols = [Column("楼栋", width=18)]
        cols += [Column(f"{lab}（元）", "money") for lab in labels]
        cols += [Column("合计（元）", "money"), Column("其中未收楼（元）", "money")]
        rows = [[b["label"], *b["buckets"], b["total"], b["developer_total"]] for b in data["rows"]]
        t = data["total"]
        rows.append(["合计", *t["buckets"], t["total"], t["developer_total"]])
        return Sheet(
            title,
            filter_labels(access, f, window=False),
            as_of,
            cols,
            rows,
            notes=[
                "账龄按每笔欠费的逾期天数分段：≤90、91–180、181–365、366–730、731–1095、>1095 天。"
            ],
        )
    if kind == "debtors":
        return Sheet(
            title,
            filter_labels(access, f, window=False) + [("户数", str(data["limit"]))],
            as_of,
            [
                Column("项目", width=12),
                Column("房号", width=14),
                Column("缴费人", width=14),
                Column("欠费本金（元）", "money"),
                Column("最早到期日", "date", 12),
                Column("未缴滞纳金（元）", "money"),
                Column("案件分类", width=12),
                Column("催缴阶段", width=12),
            ],
            (
                [
                    r.project_name,
                    r.room_code,
                    r.payer,
                    r.outstanding,
                    r.oldest_due_date,
                    r.late_fee_outstanding,
                    r.case_class_label,
                    r.stage_label,
                ]
                for r in data["rows"]
            ),
            row_count=len(data["rows"]),
            named=True,
        )
    if kind == "breakdown":
        rows = [["按分类", "", None, None]]
        rows += [["", r.label, r.cases, r.amount] for r in data["classes"]]
        rows += [["按拒交原因", "", None, None]]
        rows += [["", r.label, r.cases, r.amount] for r in data["reasons"]]
        return Sheet(
            title,
            filter_labels(access, f, window=False),
            as_of,
            [
                Column("", width=12),
                Column("分类 / 原因", width=22),
                Column("在案户数", "int", 10),
                Column("欠费本金（元）", "money"),
            ],
            rows,
        )
    if kind == "promises":
        rows = [[r.label, r.promises, r.kept, r.rate] for r in data["rows"]]
        rows.append(["合计", data["promises"], data["kept"], data["rate"]])
        return Sheet(
            title,
            filter_labels(access, f),
            as_of,
            [
                Column("责任人", width=16),
                Column("承诺次数", "int", 10),
                Column("按时兑现", "int", 10),
                Column("兑现率", "rate", 10),
            ],
            rows,
            notes=[
                "承诺兑现：承诺日（含）前收到的款项（未冲红）不少于承诺金额；未写金额的，有缴款即算兑现。"
            ],
        )
    raise ValueError(kind)
