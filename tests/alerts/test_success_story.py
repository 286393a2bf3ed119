"""经验库: a closed case marked as a good example by its steward or a supervisor; the talking points
of the refusal reason show it to every steward, without the household's name or room."""

import datetime

import pytest
from django.urls import reverse

from tests.dunning import factories
from wuye.alerts.models import SuccessStory
from wuye.alerts.services import success_story_create
from wuye.core.errors import ValidationFailed
from wuye.core.roles import Role
from wuye.dunning.contacts import contact_record
from wuye.dunning.enums import CaseState, Channel, RefusalReason

pytestmark = pytest.mark.django_db
DAY = datetime.timedelta(days=1)
WORKED = "先带工程部上门查看漏水点，当天出了维修时间表，业主看到进展后主动缴清。"


def test_a_closed_case_can_be_marked_by_its_steward(refused_then_paid, steward):
    assert refused_then_paid.state == CaseState.CLOSED

    story = success_story_create(
        user=steward,
        case=refused_then_paid,
        what_worked=WORKED,
        refusal_reason=RefusalReason.LEAK,
        channel=Channel.VISIT_HOME,
    )

    assert story.project_id == refused_then_paid.project_id
    assert story.by == steward


def test_an_open_case_cannot_be_a_success_story(case, steward):
    with pytest.raises(ValidationFailed, match="已结案") as exc:
        success_story_create(user=steward, case=case, what_worked=WORKED)

    assert exc.value.field == "case"
    assert not SuccessStory.objects.exists()


def test_another_steward_cannot_mark_the_case(refused_then_paid, make_user, project):
    other = make_user("other", Role.STEWARD, project)

    with pytest.raises(ValidationFailed, match="责任人"):
        success_story_create(user=other, case=refused_then_paid, what_worked=WORKED)


def test_a_supervisor_can_mark_any_closed_case(refused_then_paid, supervisor):
    story = success_story_create(user=supervisor, case=refused_then_paid, what_worked=WORKED)

    assert story.by == supervisor


def test_the_text_is_required(refused_then_paid, steward):
    with pytest.raises(ValidationFailed, match="请填写做法与经验") as exc:
        success_story_create(user=steward, case=refused_then_paid, what_worked="  ")

    assert exc.value.field == "what_worked"


def test_the_text_may_not_name_the_household(refused_then_paid, steward):
    with pytest.raises(ValidationFailed, match="个人信息保护法"):
        success_story_create(
            user=steward, case=refused_then_paid, what_worked="张三家的漏水修好后就缴了"
        )
    with pytest.raises(ValidationFailed, match="3-2-1502"):
        success_story_create(
            user=steward, case=refused_then_paid, what_worked="3-2-1502 修好后缴了"
        )


def test_the_text_may_not_plan_an_unlawful_measure(refused_then_paid, steward):
    with pytest.raises(ValidationFailed, match="民法典"):
        success_story_create(user=steward, case=refused_then_paid, what_worked="停水后马上就缴了")


def test_a_case_is_marked_once(refused_then_paid, steward, supervisor):
    success_story_create(user=steward, case=refused_then_paid, what_worked=WORKED)

    with pytest.raises(ValidationFailed, match="已经标记"):
        success_story_create(user=supervisor, case=refused_then_paid, what_worked=WORKED)


def test_the_case_page_offers_the_form_on_a_closed_case_and_saves_it(
    client, refused_then_paid, steward
):
    client.force_login(steward)
    url = reverse("dunning:case", args=[refused_then_paid.pk])
    html = client.get(url).content.decode()
    assert "标记为成功案例" in html
    assert '<option value="leak" selected>' in html  # the reason it overcame, prefilled

    response = client.post(
        reverse("alerts:story_create", args=[refused_then_paid.pk]),
        {"what_worked": WORKED, "refusal_reason": "leak", "channel": "visit_home"},
    )

    assert response.status_code == 302
    html = client.get(url).content.decode()
    assert "已作为成功案例" in html and WORKED in html


def test_the_case_page_of_an_open_case_has_no_story_form(client, case, steward):
    client.force_login(steward)

    html = client.get(reverse("dunning:case", args=[case.pk])).content.decode()

    assert "标记为成功案例" not in html


def test_the_talking_points_of_a_refusal_show_the_stories_of_that_reason(
    client, refused_then_paid, steward, project, item, today, morning
):
    success_story_create(
        user=steward, case=refused_then_paid, what_worked=WORKED, refusal_reason="leak"
    )
    other = factories.debtor(
        project, "5-1-0101", owner="李四", steward=steward, phones=("13900000001",)
    )
    factories.bill(other, item, "100.00", today - 60 * DAY, today - 40 * DAY)
    factories.run(project)
    leak_case = factories.case_of(other)
    contact_record(
        user=steward,
        case=leak_case,
        channel=Channel.PHONE,
        reached=True,
        refusal_reason=RefusalReason.LEAK,
        at=morning + datetime.timedelta(hours=1),
        now=morning + datetime.timedelta(hours=1),
    )
    client.force_login(steward)

    html = client.get(reverse("dunning:case", args=[leak_case.pk])).content.decode()

    assert "经验库 · 房屋漏水/渗水" in html
    assert WORKED in html


def test_the_talking_points_of_another_reason_do_not_show_the_story(
    client, refused_then_paid, steward, project, item, today, morning
):
    success_story_create(
        user=steward, case=refused_then_paid, what_worked=WORKED, refusal_reason="leak"
    )
    other = factories.debtor(
        project, "5-1-0101", owner="李四", steward=steward, phones=("13900000001",)
    )
    factories.bill(other, item, "100.00", today - 60 * DAY, today - 40 * DAY)
    factories.run(project)
    lift_case = factories.case_of(other)
    contact_record(
        user=steward,
        case=lift_case,
        channel=Channel.PHONE,
        reached=True,
        refusal_reason=RefusalReason.LIFT,
        at=morning + datetime.timedelta(hours=1),
        now=morning + datetime.timedelta(hours=1),
    )
    client.force_login(steward)

    html = client.get(reverse("dunning:case", args=[lift_case.pk])).content.decode()

    assert WORKED not in html


def test_the_stories_page_shows_each_reason_with_its_talking_point_and_stories(
    client, refused_then_paid, steward
):
    success_story_create(
        user=steward, case=refused_then_paid, what_worked=WORKED, refusal_reason="leak"
    )
    client.force_login(steward)

    html = client.get(reverse("alerts:stories")).content.decode()

    for label in RefusalReason.labels:
        assert str(label) in html
    leak_section = html.split('id="reason-leak"')[1].split("</section>")[0]
    assert WORKED in leak_section
    assert "张三" not in html and "3-2-1502" not in html
