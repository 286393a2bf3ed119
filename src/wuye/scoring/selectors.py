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
