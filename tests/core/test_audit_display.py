"""操作日志 shows "字段：旧 → 新" lines in Chinese, never raw Python dictionaries (issue 17 item 4)."""

import pytest
from django.urls import reverse

from wuye.core.audit import audit_record
from wuye.core.audit_display import change_lines
from wuye.core.roles import Role


def lines(model, changes):
    return [str(line) for line in change_lines(model, changes)]


def test_values_read_in_words_not_as_a_dict():
    assert lines("", {"paper": "a4", "is_reprint": False}) == ["纸张：a4", "补打：否"]


def test_a_change_reads_old_arrow_new_with_the_models_field_label():
    assert lines("registry.Room", {"gross_area": ["89.50", "90.00"]}) == [
        "建筑面积(㎡)：89.50 → 90.00"
    ]


def test_choice_values_show_their_labels():
    assert lines("registry.Room", {"occupancy_state": ["vacant", "rented"]}) == [
        "使用状态：空置 → 出租"
    ]


def test_an_aliased_key_finds_its_field_and_choices():
    assert lines("dunning.ArrearsCase", {"class": [None, "B"], "reason": "已联系"}) == [
        "分类：（空） → B 暂未明确",
        "原因：已联系",
    ]


def test_unknown_keys_and_models_still_render_without_failing():
    assert lines("nope.Missing", {"zzz": 1, "when": "2025-03-01T10:20:30+08:00"}) == [
        "zzz：1",
        "when：2025-03-01 10:20",
    ]


def test_nested_values_are_summarised():
    assert lines("", {"allocations": [{"bill": 1}, {"bill": 2}], "counts": {"count": 3}}) == [
        "核销明细：2 项",
        "数量：数量 3",
    ]


@pytest.mark.django_db
def test_audit_page_shows_lines_not_python_dicts(client, make_user, project):
    manager = make_user("mgr", Role.PROJECT_MANAGER, project)
    audit_record(
        user=manager,
        action="打印收据",
        project=project,
        changes={"paper": "a4", "is_reprint": False},
    )
    client.force_login(manager)
    html = client.get(reverse("audit_log")).content.decode()
    assert "纸张：" in html and "补打：" in html and "否" in html
    assert "{&#x27;paper&#x27;" not in html and "{'paper'" not in html and "False" not in html
