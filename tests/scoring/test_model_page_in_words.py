"""The model page says what the model does in words a supervisor reads (issue 17 item 6); AUC and
Brier stay on a details fold."""

import re

import pytest
from django.urls import reverse

from wuye.scoring.services import scoring_train

pytestmark = pytest.mark.django_db


def test_the_model_page_leads_with_money_recovered_not_figures(
    client, project, history, supervisor
):
    model = scoring_train(project=project, score=False)
    client.force_login(supervisor)
    page = client.get(reverse("scoring:model")).content.decode()
    words = re.search(r'id="in-words">(.*?)</p>', page, re.S).group(1)
    assert "排在前 20% 的联系" in words and "历史上收回了" in words
    assert "对比按欠费金额排序的 ¥" in words
    assert "AUC" not in words and "Brier" not in words
    fold = page.split('<details id="model-details">')[1].split("</details>")[0]
    assert "AUC" in fold and "Brier" in fold and f"{model.auc:.3f}" in fold
    before_fold = page.split('<details id="model-details">')[0].split('id="quality"')[1]
    assert "AUC" not in before_fold
