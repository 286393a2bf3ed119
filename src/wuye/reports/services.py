"""Collection plans (收费计划) and their split (分解指标): every write goes through here.

What is refused and what is only warned about (docs/user/报表-收费计划.md says the same to users):

* refused — a negative or malformed figure, a period outside the plan's split, a steward who is not
  staff of the project, a team of another project, the same period twice for one line, a second plan
  for the same project and year, changing month ↔ quarter while lines exist (their periods would
  silently change meaning);
* warned, and saved — project lines that do not add up to the annual figure, and steward lines whose
  sum exceeds the project line of the same period. A manager fills the sheet in several sittings and
  must be able to save a half-done split; the plan page keeps the warning in view until it adds up.
  Team lines are not summed against anything: a campaign team draws on several stewards' buildings, so
  its target overlaps theirs by design.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction

from wuye.billing import calc
from wuye.core import roles
from wuye.core.audit import audit_record
from wuye.core.errors import ValidationFailed, full_clean
from wuye.core.models import Membership, Project, User
from wuye.core.money import ZERO, allocate, money
from wuye.core.scope import actor_role
from wuye.dunning.models import CollectionTeam
from wuye.reports.models import CollectionPlan, PlanSplit, PlanTarget

DAY = datetime.timedelta(days=1)
EDITING = "编辑收费计划"


def period_label(split: str, period_no: int) -> str:
    return f"{period_no}月" if split == PlanSplit.MONTH else f"第{period_no}季度"


def period_window(year: int, split: str, period_no: int) -> tuple[datetime.date, datetime.date]:
    """The dates a plan period covers: a calendar month or quarter of ``year``."""
    if split == PlanSplit.MONTH:
        start = datetime.date(year, period_no, 1)
        return start, calc.month_end(start)
    start = datetime.date(year, 3 * (period_no - 1) + 1, 1)
    return start, calc.add_months(start, 3) - DAY


def period_count(split: str) -> int:
    return 12 if split == PlanSplit.MONTH else 4


@dataclass(frozen=True)
class TargetLine:
    """One cell of the plan sheet: a period's target for the project, a steward or a team."""

    period_no: int
    amount: Decimal
    households: int | None = None
    steward_id: int | None = None
    team_id: int | None = None

    @property
    def owner(self) -> tuple[str, int | None]:
        if self.steward_id:
            return ("steward", self.steward_id)
        if self.team_id:
            return ("team", self.team_id)
        return ("project", None)


def even_split(total: Decimal, parts: int) -> list[Decimal]:
    """``total`` in ``parts`` shares that differ by at most one fen and add up exactly (largest
    remainder: the first periods take the odd fen)."""
    return allocate(money(total), [Decimal(1)] * parts)


def plan_save(
    *,
    user: User,
    project: Project,
    year: int,
    split: str,
    target_amount: Decimal,
    target_rate: Decimal | None = None,
    note: str = "",
    plan: CollectionPlan | None = None,
) -> CollectionPlan:
    """Creates the project's plan for ``year`` or, given ``plan``, changes its header."""
    actor_role(user, project.pk, roles.PLAN_EDITOR_ROLES, EDITING)
    with transaction.atomic():
        if plan is None:
            if CollectionPlan.objects.filter(project=project, year=year).exists():
                raise ValidationFailed(f"年度：{project.name} {year} 年已有收费计划", field="year")
            plan = CollectionPlan(project=project, created_by=user)
            before: dict = {}
        else:
            plan = CollectionPlan.objects.select_for_update().get(pk=plan.pk)
            before = {
                "year": plan.year,
                "split": plan.split,
                "target_amount": str(plan.target_amount),
                "target_rate": str(plan.target_rate) if plan.target_rate is not None else None,
                "note": plan.note,
            }
            if year != plan.year and (
                CollectionPlan.objects.filter(project=project, year=year)
                .exclude(pk=plan.pk)
                .exists()
            ):
                raise ValidationFailed(f"年度：{project.name} {year} 年已有收费计划", field="year")
            if split != plan.split and plan.targets.exists():
                raise ValidationFailed(
                    "分解方式：已有分解指标，不能在按月与按季度之间切换（各期的含义会变）；请先清空分解指标",
                    field="split",
                )
        plan.year = year
        plan.split = split
        plan.target_amount = money(target_amount)
        plan.target_rate = target_rate
        plan.note = note
        full_clean(plan, exclude=["created_by"])
        plan.save()
        after = {
            "year": plan.year,
            "split": plan.split,
            "target_amount": str(plan.target_amount),
            "target_rate": str(plan.target_rate) if plan.target_rate is not None else None,
            "note": plan.note,
        }
        audit_record(
            user=user,
            action="reports.plan_create" if not before else "reports.plan_update",
            obj=plan,
            project=project,
            changes={k: [before.get(k), v] for k, v in after.items() if before.get(k) != v},
        )
    return plan


def _check_lines(plan: CollectionPlan, lines: list[TargetLine]) -> None:
    periods = period_count(plan.split)
    seen: set[tuple[str, int | None, int]] = set()
    steward_ids = {ln.steward_id for ln in lines if ln.steward_id}
    team_ids = {ln.team_id for ln in lines if ln.team_id}
    staff = set(
        Membership.objects.filter(project_id=plan.project_id, user_id__in=steward_ids).values_list(
            "user_id", flat=True
        )
    )
    teams = set(
        CollectionTeam.objects.filter(project_id=plan.project_id, pk__in=team_ids).values_list(
            "pk", flat=True
        )
    )
    for line in lines:
        where = period_label(plan.split, line.period_no) if 1 <= line.period_no <= 12 else ""
        if not 1 <= line.period_no <= periods:
            raise ValidationFailed(
                f"期间：{'按月' if plan.split == PlanSplit.MONTH else '按季度'}分解只有 1–{periods} 期，"
                f"第 {line.period_no} 期不存在",
                field="period_no",
            )
        if line.steward_id and line.team_id:
            raise ValidationFailed(
                f"{where}：一条指标只能落到一位责任人或一个小组", field="steward"
            )
        if line.amount is None or line.amount < 0:
            raise ValidationFailed(f"{where}：实收目标不能为负数", field="amount")
        if line.amount != money(line.amount):
            raise ValidationFailed(f"{where}：实收目标最多两位小数（分）", field="amount")
        if line.households is not None and line.households < 0:
            raise ValidationFailed(f"{where}：目标缴清户数不能为负数", field="households")
        if line.steward_id and line.steward_id not in staff:
            raise ValidationFailed(f"{where}：责任人不是本项目的员工", field="steward")
        if line.team_id and line.team_id not in teams:
            raise ValidationFailed(f"{where}：催收小组不属于本项目", field="team")
        key = (*line.owner, line.period_no)
        if key in seen:
            raise ValidationFailed(f"{where}：同一责任人同一期只能有一条指标", field="period_no")
        seen.add(key)


def targets_save(
    *, user: User | None, plan: CollectionPlan, lines: Iterable[TargetLine]
) -> list[str]:
    """Replaces the plan's whole split with ``lines`` (blank cells are simply absent) and returns the
    warnings of ``plan_warnings``. All or nothing: one bad line and nothing changes."""
    actor_role(user, plan.project_id, roles.PLAN_EDITOR_ROLES, EDITING)
    lines = list(lines)
    with transaction.atomic():
        plan = CollectionPlan.objects.select_for_update().get(pk=plan.pk)
        _check_lines(plan, lines)
        old_total = sum((t.amount for t in plan.targets.all()), ZERO)
        old_count = plan.targets.count()
        plan.targets.all().delete()
        try:
            PlanTarget.objects.bulk_create(
                PlanTarget(
                    plan=plan,
                    period_no=ln.period_no,
                    amount=money(ln.amount),
                    households=ln.households,
                    steward_id=ln.steward_id,
                    team_id=ln.team_id,
                )
                for ln in lines
            )
        except IntegrityError as exc:  # a constraint the checks above missed: say so, write nothing
            raise ValidationFailed("分解指标不合规则，未保存：" + str(exc)) from exc
        audit_record(
            user=user,
            action="reports.targets_save",
            obj=plan,
            project=plan.project_id,
            changes={
                "lines": [old_count, len(lines)],
                "total": [str(old_total), str(sum((ln.amount for ln in lines), ZERO))],
            },
        )
    return plan_warnings(plan, lines)


def targets_even_split(
    *,
    user: User | None,
    plan: CollectionPlan,
    steward_id: int | None = None,
    team_id: int | None = None,
    total: Decimal | None = None,
    households: int | None = None,
) -> list[str]:
    """平均分配: the annual figure (the plan's, or ``total`` for a steward or team) over the periods by
    largest remainder, replacing that owner's lines and keeping everyone else's. ``households`` (a
    yearly count of households to clear) is split the same way, whole households."""
    periods = period_count(plan.split)
    if steward_id is None and team_id is None:
        total = plan.target_amount
    if total is None:
        raise ValidationFailed("年度目标：请填写要平均分配的年度金额", field="total")
    total = money(total)
    if total < 0:
        raise ValidationFailed("年度目标：不能为负数", field="total")
    shares = even_split(total, periods)
    house_shares: list[int | None] = [None] * periods
    if households is not None:
        base, extra = divmod(households, periods)
        house_shares = [base + (1 if i < extra else 0) for i in range(periods)]
    owner = TargetLine(0, ZERO, steward_id=steward_id, team_id=team_id).owner
    existing = [_line(t) for t in plan.targets.all()]
    kept = [ln for ln in existing if ln.owner != owner]
    if households is None:  # keep the household targets already typed for this owner
        typed = {ln.period_no: ln.households for ln in existing if ln.owner == owner}
        house_shares = [typed.get(n) for n in range(1, periods + 1)]
    new = [
        TargetLine(
            n,
            shares[n - 1],
            households=house_shares[n - 1],
            steward_id=steward_id,
            team_id=team_id,
        )
        for n in range(1, periods + 1)
    ]
    return targets_save(user=user, plan=plan, lines=kept + new)


def _line(t: PlanTarget) -> TargetLine:
    return TargetLine(t.period_no, t.amount, t.households, t.steward_id, t.team_id)


def plan_warnings(plan: CollectionPlan, lines: Iterable[TargetLine] | None = None) -> list[str]:
    """What does not add up in the split (see the module docstring for why these only warn)."""
    lines = [_line(t) for t in plan.targets.all()] if lines is None else list(lines)
    warnings = []
    project_lines = [ln for ln in lines if ln.owner[0] == "project"]
    total = sum((ln.amount for ln in project_lines), ZERO)
    if not project_lines:
        warnings.append(
            f"还没有分解到各期：年度目标 {plan.target_amount} 元，可点“平均分配”按期均分。"
        )
    elif total != plan.target_amount:
        diff = plan.target_amount - total
        warnings.append(
            f"各期项目指标合计 {total} 元，与年度目标 {plan.target_amount} 元"
            f"{'少' if diff > 0 else '多'} {abs(diff)} 元。"
        )
    by_period = {ln.period_no: ln.amount for ln in project_lines}
    steward_sum: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for ln in lines:
        if ln.steward_id:
            steward_sum[ln.period_no] += ln.amount
    for period_no in sorted(steward_sum):
        cap = by_period.get(period_no)
        if cap is not None and steward_sum[period_no] > cap:
            warnings.append(
                f"{period_label(plan.split, period_no)}：楼管指标合计 {steward_sum[period_no]} 元，"
                f"超过项目当期指标 {cap} 元。"
            )
    return warnings
