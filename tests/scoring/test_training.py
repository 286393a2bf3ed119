"""The model is trained on the project's own history and judged on its most recent months."""

import pytest

from tests.scoring.synthetic import build_history
from wuye.core.errors import ValidationFailed
from wuye.scoring.features import NAMES
from wuye.scoring.models import ScoringModel
from wuye.scoring.selectors import params_of
from wuye.scoring.services import scoring_train


def test_model_recovers_more_in_first_fifth_of_contacts_than_amount_order(project, history):
    model = scoring_train(project=project, score=False)

    baseline = model.baseline
    assert baseline["model"] > baseline["amount"]
    assert baseline["model"] <= baseline["total"]
    assert model.auc > 0.75
    assert model.is_active


def test_quality_is_measured_on_the_most_recent_snapshots_only(project, history):
    model = scoring_train(project=project, score=False)

    assert model.history_from < model.test_from <= model.history_to
    share = model.n_test / (model.n_train + model.n_test)
    assert 0.1 < share < 0.4  # about the last 20%, whole months
    assert sum(row["n"] for row in model.calibration) == model.n_test
    assert 0 < model.brier < 0.25


def test_model_is_stored_as_numbers_that_reproduce_its_predictions(project, history):
    model = scoring_train(project=project, score=False)

    assert model.features == NAMES
    assert len(model.coefficients) == len(model.means) == len(model.scales) == len(NAMES)
    params = params_of(ScoringModel.objects.get(pk=model.pk))
    assert params.coef.tolist() == model.coefficients


def test_new_model_replaces_the_active_one(project, history):
    first = scoring_train(project=project, score=False)
    second = scoring_train(project=project, score=False)

    first.refresh_from_db()
    assert second.is_active and not first.is_active
    assert ScoringModel.objects.filter(project=project, is_active=True).count() == 1


def test_too_short_a_history_is_refused_in_chinese(project, cashier):
    build_history(project, cashier=cashier, months=4, per_kind=5)

    with pytest.raises(ValidationFailed) as exc:
        scoring_train(project=project, score=False)

    assert exc.value.code == "scoring.not_enough_history"
    assert "历史数据不足" in exc.value.message
    assert not ScoringModel.objects.filter(project=project).exists()
