"""Settings hooks (decision 0005): run in order; after-commit hooks run only once the write is durable,
and one failing hook neither undoes the write nor stops the others."""

import pytest
from django.db import transaction

from wuye.core import hooks

CALLS: list[tuple[str, dict]] = []


def record(**kwargs):
    CALLS.append(("record", kwargs))
    return "first"


def explode(**kwargs):
    raise RuntimeError("a broken app above")


def record_again(**kwargs):
    CALLS.append(("record_again", kwargs))
    return "second"


@pytest.fixture(autouse=True)
def _clean():
    CALLS.clear()


def test_call_each_answers_in_the_order_of_the_setting(settings):
    settings.WUYE_TEST_HOOK = [f"{__name__}.record", f"{__name__}.record_again"]
    assert hooks.call_each("WUYE_TEST_HOOK", x=1) == ["first", "second"]


def test_a_missing_setting_runs_nothing(settings):
    assert hooks.call_each("WUYE_NO_SUCH_HOOK") == []


@pytest.mark.django_db(transaction=True)
def test_after_commit_hooks_wait_for_the_commit_and_a_failing_one_does_not_stop_the_next(
    settings, caplog
):
    settings.WUYE_TEST_HOOK = [
        f"{__name__}.record",
        f"{__name__}.explode",
        f"{__name__}.record_again",
    ]
    with transaction.atomic():
        hooks.after_commit("WUYE_TEST_HOOK", account_id=7)
        assert CALLS == []  # not before the write is durable

    assert [name for name, _ in CALLS] == ["record", "record_again"]
    assert "a broken app above" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_after_commit_hooks_do_not_run_when_the_write_is_rolled_back(settings):
    settings.WUYE_TEST_HOOK = [f"{__name__}.record"]
    with pytest.raises(ValueError), transaction.atomic():
        hooks.after_commit("WUYE_TEST_HOOK", account_id=7)
        raise ValueError("the payment failed")

    assert CALLS == []
