"""The model page (/scoring/) and the reasons on 我的今日催缴."""

import datetime

from django.urls import reverse

from tests.dunning import factories
from wuye.dunning.daily_run import dunning_run
from wuye.scoring.models import ScoringModel
from wuye.scoring.pipeline import COLD_START_REASON
from wuye.scoring.services import scoring_train

DAY = datetime.timedelta(days=1)


def test_supervisor_sees_quality_and_baseline_of_the_active_model(
    client, project, history, supervisor
):
    model = scoring_train(project=project, score=False)
    client.force_login(supervisor)

    page = client.get(reverse("scoring:model")).content.decode()

    assert "当前模型" in page
    assert f"{model.auc:.3f}" in page
    assert "按欠费金额" in page and "校准" in page
    assert "近12个月按时缴费率" in page  # coefficients in Chinese


def test_steward_may_not_open_the_model_page(client, project, steward):
    client.force_login(steward)

    assert client.get(reverse("scoring:model")).status_code == 403


def test_retrain_button_runs_the_training_in_the_background(client, project, history, supervisor):
    client.force_login(supervisor)

    response = client.post(reverse("scoring:retrain"))

    assert response.status_code == 302
    model = ScoringModel.objects.get(project=project)
    assert model.trained_by == supervisor and model.is_active


def test_model_page_without_model_explains_the_cold_start(client, project, supervisor):
    client.force_login(supervisor)

    page = client.get(reverse("scoring:model")).content.decode()

    assert "尚无模型" in page and COLD_START_REASON in page


def test_today_page_shows_reasons_beside_each_case(client, project, history, steward):
    dunning_run(project=project)
    scoring_train(project=project)
    client.force_login(steward)

    page = client.get(reverse("dunning:today")).content.decode()

    assert page.count('class="rank-reasons') >= 10
    assert "回款概率" in page and "排序理由" in page
    assert "按预计回收金额" in page


def test_today_page_without_model_shows_the_cold_start_reason(client, project, steward, item):
    today = factories.today()
    acct = factories.debtor(project, "1-1-101", steward=steward)
    factories.bill(acct, item, "100.00", today - 60 * DAY, today - 40 * DAY)
    factories.run(project)
    client.force_login(steward)

    page = client.get(reverse("dunning:today")).content.decode()

    assert COLD_START_REASON in page
