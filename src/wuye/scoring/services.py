"""Writes of the scoring app: train a project's model on its own history, score its open cases.

``scoring_train`` fits the model and stores it with its quality figures; it becomes the project's
active model only when it does better than the plain order on the held-back months (AUC above 0.5 and
at least as much money recovered by the first 20% of contacts as ordering by amount owed) — otherwise
it is kept for the record and the project keeps its previous model, or the cold-start order.
``score_project`` refreshes the ``CaseScore`` of every open case in one set-based pass; the daily
dunning run queues it (``tasks.after_dunning_run``, listed in ``WUYE_AFTER_DUNNING_RUN``).
"""

from __future__ import annotations

import datetime

import numpy as np
from django.db import transaction
from django.db.models import Min
from django.utils import timezone

from wuye.billing.enums import BillKind
from wuye.billing.models import Bill
from wuye.core.audit import audit_record
from wuye.core.models import Project, User
from wuye.core.money import money
from wuye.core.sql import insert_rows
from wuye.dunning.enums import CaseState
from wuye.dunning.models import ArrearsCase
from wuye.dunning.rules import dunning_settings
from wuye.scoring import pipeline
from wuye.scoring.features import features_as_of
from wuye.scoring.models import CaseScore, ScoringModel
from wuye.scoring.selectors import active_model, params_of

MIN_AUC_TO_USE = 0.5


def scoring_train(
    *,
    project: Project,
    until: datetime.date | None = None,
    user: User | None = None,
    score: bool = True,
) -> ScoringModel:
    """Trains the project's model on its history up to ``until`` (default today), stores it with its
    quality figures, activates it if it beats the plain order, then rescores the open cases.
    ``ValidationFailed`` (``scoring.not_enough_history``) when the history is too short."""
    until = until or timezone.localdate()
    first_due = Bill.objects.filter(project=project, kind=BillKind.CHARGE).aggregate(
        first=Min("due_date")
    )["first"]
    dates = pipeline.snapshot_dates(first_due, until)
    grace = dunning_settings(project.pk).grace_days
    data = pipeline.build_training_set(project.pk, dates, grace)
    train, test = pipeline.split_by_time(data)
    pipeline.check_enough(train, test)
    params = pipeline.fit(train)
    quality = pipeline.evaluate(params, test)
    baseline = quality["baseline"]
    usable = quality["auc"] > MIN_AUC_TO_USE and baseline["model"] >= baseline["amount"]
    with transaction.atomic():
        if usable:
            ScoringModel.objects.filter(project=project, is_active=True).update(is_active=False)
        model = ScoringModel.objects.create(
            project=project,
            trained_at=timezone.now(),
            history_from=dates[0],
            history_to=dates[-1],
            test_from=datetime.date.fromordinal(int(test.day.min())),
            n_train=len(train),
            n_test=len(test),
            positive_rate=quality["positive_rate"],
            auc=quality["auc"],
            brier=quality["brier"],
            calibration=quality["calibration"],
            baseline=baseline,
            features=params.features,
            coefficients=[float(c) for c in params.coef],
            intercept=params.intercept,
            means=[float(m) for m in params.means],
            scales=[float(s) for s in params.scales],
            is_active=usable,
            trained_by=user,
        )
        audit_record(
            user=user,
            action="训练催缴优先级模型",
            obj=model,
            project=project,
            changes={
                "auc": round(model.auc, 4),
                "brier": round(model.brier, 4),
                "n_train": model.n_train,
                "n_test": model.n_test,
                "baseline": baseline,
                "active": usable,
            },
        )
    if score:
        score_project(project_id=project.pk)
    return model


def score_project(*, project_id: int, on: datetime.date | None = None) -> int:
    """Scores every open case of the project as of ``on`` (default today): one features pass, numpy,
    one bulk upsert; scores of cases closed since are removed. Returns the number of cases scored."""
    on = on or timezone.localdate()
    now = timezone.now()
    cases = list(
        ArrearsCase.objects.filter(project_id=project_id, state=CaseState.OPEN).values_list(
            "pk", "account_id", "overdue_amount"
        )
    )
    model = active_model(project_id)
    # Rows, not instances: a company's run scores 200,000 cases, and a model instance each plus
    # bulk_create's per-value preparation was most of the scoring's time.
    rows: list[dict] = []
    if model is None:
        rows = [
            {
                "case_id": pk,
                "project_id": project_id,
                "model_id": None,
                "p_pay_30d": None,
                "expected_recovery": None,
                "reasons": [pipeline.COLD_START_REASON],
                "scored_at": now,
            }
            for pk, _account, _owed in cases
        ]
    elif cases:
        params = params_of(model)
        fm = features_as_of(project_id, on, accounts=[account for _pk, account, _owed in cases])
        p = params.predict(fm.x)
        reasons = params.reasons(fm.x)
        for pk, account_id, owed in cases:
            i = int(np.searchsorted(fm.account_ids, account_id)) if len(fm) else 0
            if len(fm) == 0 or i >= len(fm) or fm.account_ids[i] != account_id:
                continue  # nothing overdue in the ledger any more: the next run closes the case
            rows.append(
                {
                    "case_id": pk,
                    "project_id": project_id,
                    "model_id": model.pk,
                    "p_pay_30d": float(p[i]),
                    "expected_recovery": money(str(round(float(p[i]) * float(owed), 2))),
                    "reasons": reasons[i],
                    "scored_at": now,
                }
            )
    with transaction.atomic():
        # The project's scores are replaced as a whole: closed cases lose theirs, no stale row stays.
        CaseScore.objects.filter(project_id=project_id).delete()
        insert_rows(CaseScore, rows)
    return len(rows)
