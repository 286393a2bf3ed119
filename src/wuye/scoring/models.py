"""The collection-priority model of a project and the scores of its open cases.

A ``ScoringModel`` keeps the fitted logistic regression as numbers (coefficients, intercept, the
features' means and scales), never as a pickle: scoring needs only numpy, and the page can show each
coefficient. Its quality on the held-back, most recent part of the history is stored beside it.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from wuye.billing.models import MONEY
from wuye.core.models import Project
from wuye.dunning.models import ArrearsCase


class ScoringModel(models.Model):
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="scoring_models")
    trained_at = models.DateTimeField(_("训练时间"))
    history_from = models.DateField(_("样本起始日"))
    history_to = models.DateField(_("样本截止日"))
    test_from = models.DateField(_("检验样本起始日"))
    n_train = models.PositiveIntegerField(_("训练样本数"))
    n_test = models.PositiveIntegerField(_("检验样本数"))
    positive_rate = models.FloatField(_("检验样本30天内缴费比例"))
    auc = models.FloatField(_("AUC"))
    brier = models.FloatField(_("Brier 分数"))
    # [{"decile": 1, "n": 80, "predicted": 0.04, "observed": 0.05}, …]
    calibration = models.JSONField(_("校准表"), default=list)
    # {"contacts": k, "total": Σ recoverable, "model": …, "amount": …, "cold_start": …}
    baseline = models.JSONField(_("与按欠费金额排序对比"), default=dict)
    features = models.JSONField(_("特征"), default=list)  # names, in the order of the arrays
    coefficients = models.JSONField(_("系数"), default=list)
    intercept = models.FloatField(_("截距"))
    means = models.JSONField(_("特征均值"), default=list)
    scales = models.JSONField(_("特征标准差"), default=list)
    is_active = models.BooleanField(_("启用"), default=False)
    trained_by = models.ForeignKey(
        "core.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("催缴优先级模型")
        verbose_name_plural = _("催缴优先级模型")
        ordering = ["-trained_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project"], condition=Q(is_active=True), name="one_active_model_per_project"
            ),
            models.CheckConstraint(
                condition=Q(auc__gte=0, auc__lte=1), name="scoring_auc_between_0_and_1"
            ),
        ]

    def __str__(self) -> str:
        return f"模型 {self.pk}（{self.trained_at:%Y-%m-%d}）"


class CaseScore(models.Model):
    """The current score of an open case: the chance that the household pays within 30 days if
    contacted, the money that contact is expected to bring (p × overdue amount) and the reasons. No
    model (cold start): ``p_pay_30d`` is empty and the order is overdue amount × aging."""

    case = models.OneToOneField(ArrearsCase, on_delete=models.CASCADE, related_name="score")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    model = models.ForeignKey(
        ScoringModel, on_delete=models.SET_NULL, null=True, blank=True, related_name="scores"
    )
    p_pay_30d = models.FloatField(_("30天内缴费概率"), null=True, blank=True)
    expected_recovery = models.DecimalField(_("预计回收金额"), null=True, blank=True, **MONEY)
    reasons = models.JSONField(_("理由"), default=list)
    scored_at = models.DateTimeField(_("评分时间"))

    class Meta:
        verbose_name = _("案件评分")
        verbose_name_plural = _("案件评分")
        constraints = [
            models.CheckConstraint(
                condition=Q(p_pay_30d__isnull=True) | Q(p_pay_30d__gte=0, p_pay_30d__lte=1),
                name="case_score_p_between_0_and_1",
            )
        ]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.p_pay_30d}"
