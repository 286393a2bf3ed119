"""The forbidden-measure guard (LAW.md §1–3, issue 13 item 5): a phrase list kept as data, checked
after normalising spacing, invisible characters, full-width and traditional forms, that tells a plan
(下周停止供水) from a report of what happened (业主说楼上停水导致漏水)."""

import tomllib
from pathlib import Path

import pytest

from wuye.core.guardrails import FORBIDDEN_MESSAGE, forbidden_measure, normalize, phrases

CORPUS = tomllib.loads((Path(__file__).parent / "guardrail_corpus.toml").read_text("utf-8"))
ISSUE_FORBIDDEN = [
    "下周停水",
    "下周停止供水",
    "明天关闭该户水闸",
    "切断该户电源",
    "停 水",
    "停\u200b水",
    "在小区公告栏张贴其姓名和欠款金额",
    "将该户水电等全部关闭",
    "停止供暖",
    "张贴欠费名单",
    "纳入黑名单",
    "限制服务",
    "把欠费情况告诉他的单位领导",
]


def test_the_corpus_is_big_enough_and_holds_the_issues_examples():
    assert len(CORPUS["forbidden"]) >= 50
    assert len(CORPUS["harmless"]) >= 50
    assert set(ISSUE_FORBIDDEN) <= set(CORPUS["forbidden"])
    assert "业主说楼上停水导致漏水" in CORPUS["harmless"]


@pytest.mark.parametrize("text", CORPUS["forbidden"])
def test_a_plan_of_an_unlawful_measure_is_refused(text):
    assert forbidden_measure(text) is not None, text


@pytest.mark.parametrize("text", CORPUS["harmless"])
def test_a_harmless_sentence_passes(text):
    assert forbidden_measure(text) is None, (text, forbidden_measure(text))


def test_normalising_folds_spacing_invisible_full_width_and_traditional_forms():
    assert normalize("停 水") == "停水"
    assert normalize("停\u200b\u200c\u2060水") == "停水"
    assert normalize("停\u3000電") == "停电"
    assert normalize("ＡＢＣ１２３") == "ABC123"
    assert normalize("斷水") == "断水"


def test_the_phrase_list_is_data(tmp_path):
    data = tmp_path / "phrases.toml"
    text = Path(phrases.__wrapped__.__defaults__[0]).read_text("utf-8")
    data.write_text(text.replace('"收回",', '"收回", "掐灭",'), "utf-8")
    custom = phrases.__wrapped__(data)
    assert custom.cutoff.search("掐灭电源")
    assert not phrases().cutoff.search("掐灭电源")


def test_the_message_cites_the_laws_by_name():
    assert "《民法典》第九百四十四条第三款" in FORBIDDEN_MESSAGE
    assert "《个人信息保护法》第二十三条、第二十五条" in FORBIDDEN_MESSAGE
    assert "LAW.md" not in FORBIDDEN_MESSAGE


# --- every free-text field a user writes is checked ------------------------------------------------


@pytest.mark.django_db
def test_an_edited_talking_point_is_checked(company):
    from django.core.exceptions import ValidationError

    from wuye.messaging.models import TalkingPoint

    point = TalkingPoint(company=company, case_class="B", title="跟进", body="再拖就关闭该户水闸")
    with pytest.raises(ValidationError) as refused:
        point.full_clean()
    assert "body" in refused.value.message_dict


@pytest.mark.django_db
def test_a_persons_notes_are_checked(project):
    from wuye.core.errors import ValidationFailed
    from wuye.registry import services as registry

    with pytest.raises(ValidationFailed):
        registry.person_create(user=None, project=project, name="王五", notes="纳入黑名单")
    person = registry.person_create(user=None, project=project, name="王五", notes="晚上七点后在家")
    with pytest.raises(ValidationFailed):
        registry.person_update(user=None, person=person, notes="把欠费情况告诉他的单位领导")


def test_the_shipped_talking_points_and_templates_pass_the_guard():
    from wuye.messaging import defaults

    texts = [
        value
        for name in dir(defaults)
        if name.isupper()
        for value in _strings(getattr(defaults, name))
    ]
    assert len(texts) > 10
    assert [t for t in texts if forbidden_measure(t)] == []


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)
