"""Features are computed as of a date: nothing that happened later may leak into a snapshot."""

import datetime
import re

import numpy as np

from tests.ledger.factories import pay
from wuye.scoring.features import FEATURES, INDEX, NAMES, features_as_of, labels_after

DAY = datetime.timedelta(days=1)
PROTECTED = ("年龄", "性别", "民族", "籍贯", "出生", "身份证", "姓名", "户籍", "宗教", "婚姻")
PROTECTED_NAMES = ("age", "sex", "gender", "ethnic", "birth", "id_number", "name", "religion")


def _as_of(project, on):
    return features_as_of(project.pk, on, grace_days=15)


def test_features_as_of_a_date_ignore_later_payments(project, history, cashier):
    on = history[0].account.bills.order_by("due_date")[8].due_date + 20 * DAY
    before = _as_of(project, on)
    debtor = next(h for h in history if h.kind == "chronic").account

    pay(cashier, debtor, "5000.00")  # today: long after ``on``

    after = _as_of(project, on)
    assert np.array_equal(before.account_ids, after.account_ids)
    assert np.array_equal(before.x, after.x)
    assert np.array_equal(before.overdue, after.overdue)


def test_label_is_a_payment_within_thirty_days_after_the_snapshot(project, history):
    on = history[0].account.bills.order_by("due_date")[8].due_date + 20 * DAY
    fm = _as_of(project, on)
    y, recovered = labels_after(project.pk, on, fm.account_ids, fm.overdue)

    kinds = {h.account.pk: h.kind for h in history}
    chronic = np.array([kinds[a] == "chronic" for a in fm.account_ids])
    assert y[chronic].sum() == 0  # chronic debtors stopped paying long before
    assert y[~chronic].sum() > 0
    assert np.all(recovered <= fm.overdue + 1e-9)


def test_chronic_debtors_look_different_from_reliable_payers(project, history):
    on = history[0].account.bills.order_by("due_date")[10].due_date + 20 * DAY
    fm = _as_of(project, on)
    kinds = {h.account.pk: h.kind for h in history}
    kind = np.array([kinds[a] for a in fm.account_ids])

    ratio = fm.x[:, INDEX["on_time_ratio"]]
    assert ratio[kind == "reliable"].mean() > ratio[kind == "chronic"].mean()
    silent = fm.x[:, INDEX["log_days_since_payment"]]
    assert silent[kind == "chronic"].min() > silent[kind == "reliable"].max()


def test_reasons_are_chinese_and_name_no_protected_attribute():
    for feature in FEATURES:
        assert feature.label and feature.high
        for text in (feature.label, feature.high, feature.low):
            if text:  # an empty phrase is never shown
                assert re.search(r"[\u4e00-\u9fff]", text), text
            assert not any(word in text for word in PROTECTED), text
    for name in NAMES:
        assert not any(word in name for word in PROTECTED_NAMES), name


def test_features_take_a_fixed_number_of_queries(project, history, django_assert_max_num_queries):
    on = history[0].account.bills.order_by("due_date")[10].due_date + 20 * DAY
    with django_assert_max_num_queries(9):
        fm = _as_of(project, on)
    assert len(fm) > 50
