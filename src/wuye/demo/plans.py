"""Demo collection plans (收费计划): this year's plan for every demo project, so the dashboard's target
line and the plan progress page have something to show.

The target is what a company would set: about 95% of the year's principal billing, split evenly by
month, and each month's figure shared among the stewards in proportion to what their buildings bill.
The year's billing is estimated from the months already billed (the demo bills up to this month).
Everything goes through the real services (``wuye.reports.services``), audit entries included.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db.models import Count, Sum
from django.db.models.functions import ExtractMonth

from wuye.billing.enums import BillKind
from wuye.billing.models import Bill
from wuye.core.models import Company, Project, User
from wuye.core.money import allocate, money
from wuye.reports.models import CollectionPlan
from wuye.reports.services import TargetLine, even_split, plan_save, targets_save

TARGET_SHARE = Decimal("0.95")


def make_plans(*, company: Company, user: User, today: datetime.date) -> list[CollectionPlan]:
    """This year's plan of each project of ``company`` that has none yet; returns the new plans."""
    plans = []
    for project in Project.objects.filter(company=company).order_by("id"):
        if CollectionPlan.objects.filter(project=project, year=today.year).exists():
            continue
        plan = _plan_for(project, user, today)
        if plan is not None:
            plans.append(plan)
    return plans


def _plan_for(project: Project, user: User, today: datetime.date) -> CollectionPlan | None:
    year_bills = Bill.objects.filter(
        project=project,
        kind=BillKind.CHARGE,
        period_start__year=today.year,
        period_start__month__lte=today.month,
    )
    billed = year_bills.aggregate(s=Sum("amount"))["s"]
    if not billed:
        return None
    months_billed = today.month
    annual = money(Decimal(billed) * 12 / months_billed * TARGET_SHARE).quantize(Decimal("1"))
    plan = plan_save(
        user=user,
        project=project,
        year=today.year,
        split="month",
        target_amount=money(annual),
        target_rate=Decimal("95.00"),
        note="演示数据：约为全年应收本金的 95%",
    )
    monthly = even_split(plan.target_amount, 12)
    # Households to clear each month: 95% of the accounts billed in the months billed so far (the
    # last billed month's count stands for the months to come).
    counts = dict(
        year_bills.annotate(m=ExtractMonth("period_start"))
        .values("m")
        .annotate(n=Count("account_id", distinct=True))
        .values_list("m", "n")
    )
    last = counts.get(months_billed) or max(counts.values(), default=0)
    lines = [
        TargetLine(
            n,
            monthly[n - 1],
            households=int(Decimal(counts.get(n, last)) * TARGET_SHARE),
        )
        for n in range(1, 13)
    ]
    by_steward = list(
        year_bills.filter(room__building__steward__isnull=False)
        .values("room__building__steward")
        .annotate(s=Sum("amount"))
        .order_by("room__building__steward")
    )
    stewards = [r["room__building__steward"] for r in by_steward]
    weights = [Decimal(r["s"]) for r in by_steward]
    if stewards and sum(weights) > 0:
        for n in range(1, 13):
            for steward_id, share in zip(stewards, allocate(monthly[n - 1], weights), strict=True):
                lines.append(TargetLine(n, share, steward_id=steward_id))
    targets_save(user=user, plan=plan, lines=lines)
    return plan
