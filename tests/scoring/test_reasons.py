"""Reasons beside a case: the factors that raise its chance, in Chinese, read the common way."""

import numpy as np

from wuye.scoring.features import INDEX, NAMES
from wuye.scoring.pipeline import Params


def _params(**coef: float) -> Params:
    c = np.zeros(len(NAMES))
    for name, value in coef.items():
        c[INDEX[name]] = value
    return Params(
        features=list(NAMES),
        coef=c,
        intercept=0.0,
        means=np.zeros(len(NAMES)),
        scales=np.ones(len(NAMES)),
    )


def _row(**values: float) -> np.ndarray:
    x = np.zeros((1, len(NAMES)))
    for name, value in values.items():
        x[0, INDEX[name]] = value
    return x


def test_largest_positive_contributions_come_first():
    params = _params(on_time_ratio=2.0, payments_12m=0.5, promises_kept=1.0)

    reasons = params.reasons(_row(on_time_ratio=1.0, payments_12m=1.0, promises_kept=1.0))[0]

    assert reasons == ["过去12个月按时缴费率高", "曾兑现承诺", "近一年缴费次数多"]


def test_contribution_against_the_common_reading_is_not_a_reason():
    # Owing for long "raises" the chance here only as a correction of another factor.
    params = _params(log_aging=1.5, on_time_ratio=0.5)

    reasons = params.reasons(_row(log_aging=1.0, on_time_ratio=1.0))[0]

    assert "欠费时间长" not in reasons
    assert reasons == ["过去12个月按时缴费率高"]


def test_a_big_debt_is_named_as_the_other_half_of_expected_recovery():
    params = _params(log_days_since_payment=-1.0)

    reasons = params.reasons(_row(log_overdue=2.0, log_days_since_payment=-1.0))[0]

    assert reasons == ["近期有缴费", "欠费金额大"]


def test_no_reason_below_the_threshold():
    params = _params(on_time_ratio=0.01)

    assert params.reasons(_row(on_time_ratio=1.0)) == [[]]
