"""Small steps for the schedule's tests: each records its call; ``broken`` raises while FAIL is set."""

from __future__ import annotations

from wuye.ops.steps import QUICK_QUEUE, Step

CALLS: list[tuple[str, int, str]] = []
FAIL: set[str] = set()


def _body(key):
    def body(project, day):
        CALLS.append((key, project.pk, day.isoformat()))
        if key in FAIL:
            raise RuntimeError(f"{key} broke on purpose")
        return 3, {"key": key}

    return body


first = Step("first", "第一步", _body("first"))
broken = Step("broken", "会失败的一步", _body("broken"))
texts = Step(
    "texts",
    "短信",
    _body("texts"),
    at_setting="WUYE_SCHEDULE_MESSAGES_AT",
    sends_messages=True,
    queue=QUICK_QUEUE,
)
last = Step("last", "最后一步", _body("last"), queue="long")
sundays = Step("sundays", "每周日", _body("sundays"), due=lambda project, day: day.weekday() == 6)

ALL = [f"tests.ops.steps.{name}" for name in ("first", "broken", "texts", "last", "sundays")]
