"""Today's list in the order that recovers the most money per contact (``WUYE_CASE_RANKER`` hook).

``dunning.selectors.today_tasks`` calls ``rank(cases, project_id=…, on=…)``; it sets on each case
``rank_key`` (what the list sorts by, largest first), ``rank_reasons`` (the two or three Chinese
reasons shown beside the case), ``rank_p`` and ``rank_expected`` (the chance of payment within 30
days and the money one contact is expected to bring), and ``rank_note`` (the order, in words).

With an active model the key is p × overdue amount (the case's current amount, so a part payment
since the last scoring counts at once); cases the daily run has not scored yet are scored on the fly
(without writing). Without a model (cold start) the key is overdue amount × aging days.
"""

from __future__ import annotations

import datetime

import numpy as np

from wuye.core.money import money
from wuye.scoring.features import features_as_of
from wuye.scoring.models import CaseScore
from wuye.scoring.pipeline import COLD_START_REASON
from wuye.scoring.selectors import active_model, params_of

MODEL_NOTE = "按预计回收金额（30天内缴费概率×欠费金额）从大到小"
COLD_NOTE = "尚无模型，按欠费金额×账龄从大到小"


def rank(cases: list, *, project_id: int, on: datetime.date) -> None:
    """Two queries when every case has a current score; a fixed few more when some do not."""
    if not cases:
        return
    model = active_model(project_id)
    if model is None:
        for case in cases:
            _cold(case)
        return
    scores = {
        case_id: (p, reasons)
        for case_id, p, reasons in CaseScore.objects.filter(
            case_id__in=[c.pk for c in cases], model=model
        ).values_list("case_id", "p_pay_30d", "reasons")
    }
    missing = [c for c in cases if c.pk not in scores]
    if missing:
        params = params_of(model)
        fm = features_as_of(project_id, on, accounts=[c.account_id for c in missing])
        p = params.predict(fm.x)
        reasons = params.reasons(fm.x)
        for case in missing:
            i = int(np.searchsorted(fm.account_ids, case.account_id)) if len(fm) else 0
            if len(fm) and i < len(fm) and fm.account_ids[i] == case.account_id:
                scores[case.pk] = (float(p[i]), reasons[i])
    for case in cases:
        found = scores.get(case.pk)
        if found is None or found[0] is None:
            # Nothing overdue in the ledger any more (paid since the run): last, no chance to speak of.
            _cold(case)
            case.rank_key = -1.0
            continue
        p, reasons = found
        case.rank_p = p
        case.rank_expected = money(str(round(p * float(case.overdue_amount), 2)))
        case.rank_key = p * float(case.overdue_amount)
        case.rank_reasons = reasons or ["没有突出的有利因素"]
        case.rank_note = MODEL_NOTE


def _cold(case) -> None:
    case.rank_p = None
    case.rank_expected = None
    case.rank_key = float(case.overdue_amount) * max(case.aging_days, 1)
    case.rank_reasons = [COLD_START_REASON]
    case.rank_note = COLD_NOTE
