"""Reads of the scoring app: the active model of a project, its history, and a model as numbers."""

from __future__ import annotations

import numpy as np

from wuye.scoring.features import FEATURES, INDEX
from wuye.scoring.models import ScoringModel
from wuye.scoring.pipeline import Params


def active_model(project_id: int) -> ScoringModel | None:
    return ScoringModel.objects.filter(project_id=project_id, is_active=True).first()


def model_history(project_id: int, limit: int = 20) -> list[ScoringModel]:
    return list(
        ScoringModel.objects.filter(project_id=project_id).order_by("-trained_at", "-id")[:limit]
    )


def params_of(model: ScoringModel) -> Params:
    """The stored numbers as a ``Params``. Features the code no longer knows are refused: a model must
    be retrained after the feature list changes."""
    unknown = [name for name in model.features if name not in INDEX]
    if unknown:
        raise ValueError(f"model {model.pk} uses unknown features {unknown}: retrain it")
    # Reorder to the current feature order (a model stored with the same names in another order
    # still scores correctly).
    order = [model.features.index(f.name) if f.name in model.features else None for f in FEATURES]

    def arrange(values: list[float], missing: float) -> np.ndarray:
        return np.array([values[i] if i is not None else missing for i in order], dtype=float)

    return Params(
        features=[f.name for f in FEATURES],
        coef=arrange(model.coefficients, 0.0),
        intercept=float(model.intercept),
        means=arrange(model.means, 0.0),
        scales=arrange(model.scales, 1.0),
    )


def coefficient_rows(model: ScoringModel) -> list[dict]:
    """The coefficients in Chinese, strongest first: what raises and what lowers the chance."""
    rows = []
    for name, coef, mean in zip(model.features, model.coefficients, model.means, strict=True):
        feature = FEATURES[INDEX[name]] if name in INDEX else None
        rows.append(
            {
                "label": feature.label if feature else name,
                "coef": coef,
                "mean": mean,
                "effect": "越高越可能缴费" if coef > 0 else "越高越不易缴费",
                "width": min(100, round(abs(coef) * 60)),
            }
        )
    rows.sort(key=lambda r: -abs(r["coef"]))
    return rows


def uplift(baseline: dict) -> float | None:
    """How much more the model's first 20% recovered than the amount order's, in percent."""
    amount, model = baseline.get("amount") or 0, baseline.get("model") or 0
    if not amount:
        return None
    return round((model - amount) / amount * 100, 1)


def quality_lines(model: ScoringModel) -> list[str]:
    """The quality figures in a few Chinese lines (command output and the benchmark)."""
    b = model.baseline
    gain = uplift(b)
    lines = [
        f"样本：训练 {model.n_train} 个（{model.history_from:%Y-%m}～{model.test_from:%Y-%m} 前），"
        f"检验 {model.n_test} 个（{model.test_from:%Y-%m} 起，30天内缴费比例 {model.positive_rate:.1%}）",
        f"AUC {model.auc:.3f}，Brier {model.brier:.3f}",
        f"前 {b.get('share', 0.2):.0%} 联系（{b.get('contacts')} 次）回收：模型排序 ¥{b.get('model'):,.2f}，"
        f"按欠费金额排序 ¥{b.get('amount'):,.2f}，按金额×账龄 ¥{b.get('cold_start'):,.2f}"
        + (f"（模型多 {gain}%）" if gain is not None else ""),
        "校准（十分位：预测 / 实际）："
        + "，".join(
            f"{row['decile']}:{row['predicted']:.2f}/{row['observed']:.2f}"
            for row in model.calibration
        ),
        "已启用" if model.is_active else "未启用（未优于按欠费金额排序，继续使用原排序）",
    ]
    return lines
