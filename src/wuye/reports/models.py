"""Collection targets (收费计划, 分解指标). Summary tables for fast reports live beside them.

A plan is one project's annual target; its lines split the year by month or quarter and, where a
line names one, by steward or collection team (责任到人). A line without steward or team is the
project's own figure for that period.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from wuye.billing.models import MONEY
from wuye.core.models import Project
from wuye.dunning.models import CollectionTeam


class PlanSplit(models.TextChoices):
    MONTH = "month", _("按月")
    QUARTER = "quarter", _("按季度")


class CollectionPlan(models.Model):
    """收费计划: what a project means to collect in a year."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="collection_plans")
    year = models.PositiveSmallIntegerField(_("年度"))
    split = models.CharField(
        _("分解方式"), max_length=10, choices=PlanSplit.choices, default=PlanSplit.MONTH
    )
    target_amount = models.DecimalField(_("年度实收目标(本金)"), **MONEY)
    target_rate = models.DecimalField(
        _("目标综合收缴率(%)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    note = models.CharField(_("说明"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("收费计划")
        verbose_name_plural = _("收费计划")
        ordering = ["-year", "project_id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "year"], name="one_plan_per_project_year"),
            models.CheckConstraint(
                condition=Q(target_amount__gte=0), name="plan_target_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(target_rate__isnull=True) | Q(target_rate__gte=0, target_rate__lte=100),
                name="plan_rate_is_percent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project} {self.year} 年收费计划"


class PlanTarget(models.Model):
    """分解指标: the share of a plan for one month or quarter, optionally for one steward or team."""

    plan = models.ForeignKey(CollectionPlan, on_delete=models.CASCADE, related_name="targets")
    period_no = models.PositiveSmallIntegerField(_("月份/季度"))
    steward = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("责任人"),
    )
    team = models.ForeignKey(
        CollectionTeam,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("催收小组"),
    )
    amount = models.DecimalField(_("实收目标(本金)"), **MONEY)
    households = models.PositiveIntegerField(_("目标缴清户数"), null=True, blank=True)

    class Meta:
        verbose_name = _("分解指标")
        verbose_name_plural = _("分解指标")
        ordering = ["plan_id", "period_no", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_no__gte=1, period_no__lte=12), name="target_period_in_year"
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="target_not_negative"),
            models.CheckConstraint(
                condition=Q(steward__isnull=True) | Q(team__isnull=True),
                name="target_steward_or_team",
            ),
            models.UniqueConstraint(
                fields=["plan", "period_no"],
                condition=Q(steward__isnull=True, team__isnull=True),
                name="one_project_target_per_period",
            ),
            models.UniqueConstraint(
                fields=["plan", "period_no", "steward"],
                condition=Q(steward__isnull=False),
                name="one_steward_target_per_period",
            ),
            models.UniqueConstraint(
                fields=["plan", "period_no", "team"],
                condition=Q(team__isnull=False),
                name="one_team_target_per_period",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plan} #{self.period_no} {self.amount}"
