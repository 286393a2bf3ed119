"""Message templates: placeholders filled from the one household, unknown ones and unlawful measures
refused."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from wuye.core.errors import ValidationFailed
from wuye.messaging import rendering
from wuye.messaging.models import MessageTemplate, TemplateKind
from wuye.messaging.selectors import template_for

pytestmark = pytest.mark.django_db
DEADLINE = datetime.date(2026, 12, 31)


def test_placeholders_are_filled_from_the_case(case):
    text = rendering.render("{户名} {房号} 欠 {欠费金额} 元，{期限} 前缴纳", case, DEADLINE)

    assert text == "张三 3-2-1502 欠 200.00 元，2026年12月31日 前缴纳"


def test_the_default_templates_use_only_known_placeholders(case):
    for kind in TemplateKind.values:
        title, body = template_for(case.project.company_id, case.project_id, kind)
        assert "{" not in rendering.render(body, case, DEADLINE)


def test_an_unknown_placeholder_is_refused(case):
    with pytest.raises(ValidationFailed, match="未知占位符") as err:
        rendering.render("{户名} 的邻居 {邻居欠费}", case, DEADLINE)
    assert err.value.field == "body"


@pytest.mark.parametrize("plan", ["逾期将停水停电", "欠费将停用电梯", "门禁卡将被锁定"])
def test_a_template_that_plans_an_unlawful_measure_is_refused(case, plan):
    with pytest.raises(ValidationFailed, match="民法典"):
        rendering.render("{户名}：" + plan, case, DEADLINE)


def test_the_admin_refuses_saving_an_unlawful_template(company):
    row = MessageTemplate(company=company, kind=TemplateKind.SMS, title="x", body="不缴就断电")

    with pytest.raises(ValidationError):
        row.full_clean()


def test_a_project_template_replaces_the_default(company, project, case):
    MessageTemplate.objects.create(
        company=company, project=project, kind=TemplateKind.SMS, title="本项目", body="{房号}请缴费"
    )

    assert template_for(company.pk, project.pk, TemplateKind.SMS) == ("本项目", "{房号}请缴费")
