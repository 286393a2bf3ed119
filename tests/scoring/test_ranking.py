"""Today's list: ordered by expected money recovered per contact, with the reasons beside each case;
without a model, by overdue amount × aging."""

import datetime

from tests.dunning import factories
from wuye.dunning.daily_run import dunning_run
from wuye.dunning.selectors import today_tasks
from wuye.scoring.features import FEATURES
from wuye.scoring.models import CaseScore
from wuye.scoring.pipeline import COLD_START_REASON
from wuye.scoring.services import score_project, scoring_train

DAY = datetime.timedelta(days=1)
ALL_REASONS = {f.high for f in FEATURES} | {f.low for f in FEATURES} | {"没有突出的有利因素"}


def test_cold_start_orders_by_amount_times_aging(project, steward, item, today):
    small_old = factories.debtor(project, "1-1-101", steward=steward)
    factories.bill(small_old, item, "100.00", today - 200 * DAY, today - 180 * DAY)  # 18,000
    big_new = factories.debtor(project, "1-1-102", steward=steward)
    factories.bill(big_new, item, "1000.00", today - 40 * DAY, today - 20 * DAY)  # 20,000
    middle = factories.debtor(project, "1-1-103", steward=steward)
    factories.bill(middle, item, "300.00", today - 60 * DAY, today - 40 * DAY)  # 12,000
    factories.run(project)

    tasks = today_tasks(user=steward, project_id=project.pk, on=today)

    assert [t.account_id for t in tasks] == [big_new.pk, small_old.pk, middle.pk]
    assert all(t.rank_reasons == [COLD_START_REASON] for t in tasks)
    assert all(t.rank_p is None for t in tasks)


def test_today_list_follows_expected_recovery(
    project, history, steward, django_assert_max_num_queries
):
    dunning_run(project=project)
    scoring_train(project=project)
    today = datetime.date.today()

    with django_assert_max_num_queries(9):  # order (light rows), cards
        tasks = today_tasks(user=steward, project_id=project.pk, on=today)

    assert len(tasks) > 20
    keys = [t.rank_p * float(t.overdue_amount) for t in tasks if not t.promise_tomorrow]
    assert keys == sorted(keys, reverse=True)
    # The biggest debts (the chronic debtors) are not simply first.
    by_amount = sorted(tasks, key=lambda t: -t.overdue_amount)
    assert [t.pk for t in tasks[:10]] != [t.pk for t in by_amount[:10]]


def test_reasons_beside_each_case_are_model_reasons_in_chinese(project, history, steward):
    dunning_run(project=project)
    scoring_train(project=project)

    tasks = today_tasks(user=steward, project_id=project.pk, on=datetime.date.today())

    assert tasks and all(1 <= len(t.rank_reasons) <= 3 for t in tasks)
    assert all(set(t.rank_reasons) <= ALL_REASONS for t in tasks)


def test_unscored_case_is_scored_on_the_fly_with_the_active_model(project, history, steward):
    dunning_run(project=project)
    scoring_train(project=project)
    CaseScore.objects.filter(project=project).delete()

    tasks = today_tasks(user=steward, project_id=project.pk, on=datetime.date.today())

    assert tasks and all(t.rank_p is not None for t in tasks)


def test_scores_of_open_cases_are_stored_with_expected_recovery(project, history):
    dunning_run(project=project)
    model = scoring_train(project=project, score=False)

    n = score_project(project_id=project.pk)

    scores = list(CaseScore.objects.filter(project=project).select_related("case"))
    assert n == len(scores) > 0
    for s in scores:
        assert s.model_id == model.pk
        assert abs(float(s.expected_recovery) - s.p_pay_30d * float(s.case.overdue_amount)) < 0.01


def test_daily_run_rescores_the_open_cases(project, history, django_capture_on_commit_callbacks):
    scoring_train(project=project, score=False)

    with django_capture_on_commit_callbacks(execute=True):
        result = dunning_run(project=project)

    assert result.opened > 0
    assert CaseScore.objects.filter(project=project, model__isnull=False).count() == result.opened


def test_without_model_the_scores_say_cold_start(project, steward, item, today):
    acct = factories.debtor(project, "1-1-101", steward=steward)
    factories.bill(acct, item, "100.00", today - 60 * DAY, today - 40 * DAY)
    factories.run(project)

    score_project(project_id=project.pk)

    score = CaseScore.objects.get(case__account=acct)
    assert score.model is None and score.p_pay_30d is None
    assert score.reasons == [COLD_START_REASON]


def test_the_daily_run_queues_the_scoring_on_the_long_queue(monkeypatch):
    from wuye.scoring import tasks

    assert tasks.scoring_score_project.queue_name == "long"
    queued = []

    class Recorder:
        def enqueue(self, *args):
            queued.append(args)

    monkeypatch.setattr(tasks, "scoring_score_project", Recorder())
    tasks.after_dunning_run(project_id=7, on=datetime.date(2026, 12, 5))
    assert queued == [(7, "2026-12-05")]
