"""Training and evaluation of the collection-priority model (numpy + scikit-learn; no database writes).

Training set: the project's own history, one snapshot per payer account and month — on the first day
of each month, every account that then owed money overdue for longer than the grace days (the cases
the daily run would have had open). Features as of that day (``features.features_as_of``), label:
did a payment come in within the next 30 days. Real projects call every open case within the first
week (SPEC §5 step 4), so a case-month is a contacted case-month; the contact records, where the
project has them, enter as features (contacts, promises, refusals, class, stage).

Evaluation: the most recent 20% of the snapshots (whole months) are held back. On them: AUC, Brier
score, a calibration table by decile, and the money the first 20% of each month's list would have
recovered, ordered by the model (p × overdue amount) and by overdue amount alone.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass, field

import numpy as np

from wuye.billing.calc import add_months, month_start
from wuye.core.errors import ValidationFailed
from wuye.scoring.features import FEATURES, INDEX, NAMES, features_as_of, labels_after

DAY = datetime.timedelta(days=1)
HOLD_OUT = 0.2  # share of the snapshots, the most recent, held back for the quality figures
FIRST_SHARE = 0.2  # "the first 20% of contacts"
MIN_HISTORY_MONTHS = (
    6  # months of bills before the first snapshot (so the 12-month figures mean something)
)
MIN_TRAIN, MIN_TEST = 200, 50
COLD_START_REASON = "按欠费金额×账龄排序（尚无模型）"
MAX_REASONS = 3
REASON_MIN = 0.1  # contributions (in log-odds) below this are not worth a line
BIG_DEBT_Z = 0.75  # debts this many standard deviations (of log amount) above the mean are "big"


@dataclass
class Params:
    """A fitted model as plain numbers."""

    features: list[str]
    coef: np.ndarray
    intercept: float
    means: np.ndarray
    scales: np.ndarray

    def z(self, x: np.ndarray) -> np.ndarray:
        return (x - self.means) / self.scales

    def predict(self, x: np.ndarray) -> np.ndarray:
        """P(payment within 30 days) of each row of ``x``."""
        if len(x) == 0:
            return np.zeros(0)
        logit = self.z(x) @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-np.clip(logit, -30, 30)))

    def reasons(self, x: np.ndarray) -> list[list[str]]:
        """Per row, the Chinese reasons for its place in the order: the largest positive contributions
        coef × (x − mean) / scale to its chance, worded by which side of the mean the value lies —
        leaving out a contribution that runs against how the factor is commonly read (with correlated
        factors the model lets one correct another: "owed for long" may add to the chance only
        because "days late" took away too much) — then "欠费金额大" when the debt is well above the
        project's usual one (the other half of p × amount)."""
        if len(x) == 0:
            return []
        z = self.z(x)
        contrib = z * self.coef
        direction = np.array([FEATURES[INDEX[name]].direction for name in self.features])
        against = (direction != 0) & (np.sign(z) * direction < 0)
        contrib = np.where(against, 0.0, contrib)
        order = np.argsort(-contrib, axis=1)
        amount = self.features.index("log_overdue") if "log_overdue" in self.features else None
        out = []
        for row, cols in enumerate(order):
            words: list[str] = []
            for j in cols:
                if contrib[row, j] < REASON_MIN or len(words) == MAX_REASONS:
                    break
                feature = FEATURES[INDEX[self.features[j]]]
                text = feature.high if z[row, j] > 0 else feature.low
                if text and text not in words:
                    words.append(text)
            big = amount is not None and z[row, amount] > BIG_DEBT_Z
            if big and "欠费金额大" not in words:
                words = [*words[: MAX_REASONS - 1], "欠费金额大"]
            out.append(words)
        return out


@dataclass
class TrainingSet:
    x: np.ndarray
    y: np.ndarray
    recovered: np.ndarray  # yuan recovered in the 30 days (at most the debt)
    overdue: np.ndarray
    aging: np.ndarray
    day: np.ndarray  # snapshot date as an ordinal
    dates: list[datetime.date] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.y)

    def take(self, mask: np.ndarray) -> TrainingSet:
        return TrainingSet(
            self.x[mask],
            self.y[mask],
            self.recovered[mask],
            self.overdue[mask],
            self.aging[mask],
            self.day[mask],
        )


def snapshot_dates(first_due: datetime.date | None, until: datetime.date) -> list[datetime.date]:
    """The first day of each month from ``MIN_HISTORY_MONTHS`` after the first bill fell due to the
    last month whose 30-day outcome is known by ``until``."""
    if first_due is None:
        return []
    day = add_months(month_start(first_due), MIN_HISTORY_MONTHS)
    last = until - 30 * DAY
    dates = []
    while day <= last:
        dates.append(day)
        day = add_months(day, 1)
    return dates


def build_training_set(project_id: int, dates: list[datetime.date], grace_days: int) -> TrainingSet:
    parts = []
    for on in dates:
        fm = features_as_of(project_id, on, grace_days=grace_days)
        y, recovered = labels_after(project_id, on, fm.account_ids, fm.overdue)
        parts.append((fm.x, y, recovered, fm.overdue, fm.aging, np.full(len(y), on.toordinal())))
    if not parts:
        empty = np.zeros((0, len(FEATURES)))
        return TrainingSet(empty, *(np.zeros(0) for _ in range(5)), dates=dates)
    x, y, rec, overdue, aging, day = (np.concatenate(p) for p in zip(*parts, strict=True))
    return TrainingSet(x, y, rec, overdue, aging, day, dates=dates)


def split_by_time(data: TrainingSet) -> tuple[TrainingSet, TrainingSet]:
    """Oldest ~80% of snapshots to train, the most recent ~20% (whole snapshot days) to test."""
    days = np.sort(data.day)
    if len(days) == 0:
        return data, data
    cut = days[min(int(math.floor(len(days) * (1 - HOLD_OUT))), len(days) - 1)]
    test = data.day >= cut
    return data.take(~test), data.take(test)


def check_enough(train: TrainingSet, test: TrainingSet) -> None:
    problems = []
    if len(train) < MIN_TRAIN:
        problems.append(f"训练样本 {len(train)} 个（至少 {MIN_TRAIN}）")
    if len(test) < MIN_TEST:
        problems.append(f"检验样本 {len(test)} 个（至少 {MIN_TEST}）")
    for name, part in (("训练", train), ("检验", test)):
        if len(part) and (part.y.min() == part.y.max()):
            problems.append(f"{name}样本中缴费与未缴费两种结果必须都有")
    if problems:
        raise ValidationFailed(
            "历史数据不足，无法训练催缴优先级模型："
            + "；".join(problems)
            + "。继续按欠费金额×账龄排序。",
            code="scoring.not_enough_history",
        )


def fit(train: TrainingSet) -> Params:
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(train.x)
    model = LogisticRegression(C=1.0, max_iter=2000)
    model.fit(scaler.transform(train.x), train.y)
    return Params(
        features=list(NAMES),
        coef=model.coef_[0].astype(float),
        intercept=float(model.intercept_[0]),
        means=scaler.mean_.astype(float),
        scales=scaler.scale_.astype(float),
    )


def recovered_first(
    key: np.ndarray, recovered: np.ndarray, day: np.ndarray, share: float = FIRST_SHARE
) -> tuple[float, int]:
    """Money recovered by the first ``share`` of each day's list when ordered by ``key`` (descending;
    ties by position), and how many contacts that is."""
    total, contacts = 0.0, 0
    for d in np.unique(day):
        idx = np.flatnonzero(day == d)
        k = int(math.ceil(len(idx) * share))
        top = idx[np.argsort(-key[idx], kind="stable")[:k]]
        total += float(recovered[top].sum())
        contacts += k
    return total, contacts


def evaluate(params: Params, test: TrainingSet) -> dict:
    from sklearn.metrics import brier_score_loss, roc_auc_score

    p = params.predict(test.x)
    deciles = []
    order = np.argsort(p, kind="stable")
    for i, chunk in enumerate(np.array_split(order, 10), start=1):
        if len(chunk) == 0:
            continue
        deciles.append(
            {
                "decile": i,
                "n": int(len(chunk)),
                "predicted": round(float(p[chunk].mean()), 4),
                "observed": round(float(test.y[chunk].mean()), 4),
            }
        )
    model_money, contacts = recovered_first(p * test.overdue, test.recovered, test.day)
    amount_money, _ = recovered_first(test.overdue, test.recovered, test.day)
    cold_money, _ = recovered_first(
        test.overdue * np.maximum(test.aging, 1), test.recovered, test.day
    )
    return {
        "auc": float(roc_auc_score(test.y, p)),
        "brier": float(brier_score_loss(test.y, p)),
        "positive_rate": float(test.y.mean()),
        "calibration": deciles,
        "baseline": {
            "share": FIRST_SHARE,
            "contacts": contacts,
            "snapshots": int(len(test)),
            "months": int(len(np.unique(test.day))),
            "total": round(float(test.recovered.sum()), 2),
            "model": round(model_money, 2),
            "amount": round(amount_money, 2),
            "cold_start": round(cold_money, 2),
        },
    }
