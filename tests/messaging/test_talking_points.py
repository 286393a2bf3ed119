"""Talking points (话术): defaults in code for every class and refusal reason, overridden by rows."""

import datetime

import pytest
from django.urls import reverse

from wuye.core.roles import Role
from wuye.dunning.contacts import contact_record
from wuye.dunning.enums import CaseClass, Channel, RefusalReason
from wuye.messaging import defaults
from wuye.messaging.models import TalkingPoint
from wuye.messaging.selectors import talking_points_for

pytestmark = pytest.mark.django_db
DAY = datetime.timedelta(days=1)


def test_every_class_and_every_refusal_reason_has_a_default():
    assert set(defaults.CLASS_POINTS) == set(CaseClass.values)
    assert set(defaults.REASON_POINTS) == set(RefusalReason.values)


def test_the_defaults_say_who_answers_for_leaks_lifts_thefts_and_defects_and_that_the_fee_is_due():
    for reason in (
        RefusalReason.LEAK,
        RefusalReason.LIFT,
        RefusalReason.THEFT,
        RefusalReason.DEVELOPER_DEFECT,
    ):
        body = defaults.REASON_POINTS[reason][1]
        assert "负责" in body
        assert "费用仍然按合同计算" in body


def test_an_unclassified_case_gets_the_opener_and_the_remote_payment_ways(case):
    points = talking_points_for(case)

    assert [p.key for p in points] == [CaseClass.B, "remote"]
    assert "微信" in points[1].body and "POS" in points[1].body


def test_a_refusal_adds_the_point_for_its_reason(steward, case, morning):
    contact_record(
        user=steward,
        case=case,
        channel=Channel.PHONE,
        reached=True,
        refusal_reason=RefusalReason.LEAK,
        at=morning,
        now=morning,
    )
    case.refresh_from_db()

    keys = [p.key for p in talking_points_for(case)]

    assert keys == [CaseClass.E, RefusalReason.LEAK, "remote"]


def test_a_project_row_overrides_the_company_row_which_overrides_the_default(
    company, project, other_project, case
):
    TalkingPoint.objects.create(company=company, case_class="B", title="公司版", body="公司话术")
    assert talking_points_for(case)[0].title == "公司版"

    TalkingPoint.objects.create(
        company=company, project=project, case_class="B", title="项目版", body="项目话术"
    )
    TalkingPoint.objects.create(
        company=company, project=other_project, case_class="B", title="别的项目", body="x"
    )

    assert talking_points_for(case)[0].title == "项目版"


def test_the_case_page_shows_the_talking_points_open(client, steward, case):
    client.force_login(steward)

    html = client.get(reverse("dunning:case", args=[case.pk])).content.decode()

    assert "话术建议" in html
    assert defaults.CLASS_POINTS[CaseClass.B][0] in html


def test_todays_card_fetches_its_talking_points_when_the_steward_opens_them(client, steward, case):
    client.force_login(steward)
    fetch = reverse("messaging:talking_points", args=[case.pk])

    card = client.get(reverse("dunning:today")).content.decode()
    points = client.get(fetch).content.decode()

    assert "话术建议" in card and fetch in card
    assert defaults.CLASS_POINTS[CaseClass.B][0] not in card
    assert defaults.CLASS_POINTS[CaseClass.B][0] in points
    assert "远程缴费方式" in points


def test_the_fetched_points_follow_the_latest_refusal(client, steward, case, morning):
    contact_record(
        user=steward,
        case=case,
        channel=Channel.PHONE,
        reached=True,
        refusal_reason=RefusalReason.LEAK,
        at=morning,
        now=morning,
    )
    client.force_login(steward)

    html = client.get(reverse("messaging:talking_points", args=[case.pk])).content.decode()

    assert defaults.REASON_POINTS[RefusalReason.LEAK][0] in html


def test_another_stewards_case_points_are_not_served(client, make_user, project, case):
    other = make_user("other-steward", Role.STEWARD, project)
    client.force_login(other)

    answer = client.get(reverse("messaging:talking_points", args=[case.pk]))

    assert answer.status_code == 404


def test_a_case_of_another_project_is_not_served(client, make_user, other_project, case):
    outsider = make_user("outsider", Role.PROJECT_MANAGER, other_project)
    client.force_login(outsider)

    answer = client.get(reverse("messaging:talking_points", args=[case.pk]))

    assert answer.status_code == 404


def test_todays_list_reads_no_talking_points(
    client, steward, project, item, today, django_assert_max_num_queries
):
    from tests.dunning import factories

    for n in range(5):
        acct = factories.debtor(project, f"1-1-{n}01", steward=steward, phones=(f"1380000000{n}",))
        factories.bill(acct, item, "100.00", today - 60 * DAY, today - 40 * DAY)
    factories.run(project)
    client.force_login(steward)
    client.get(reverse("dunning:today"))  # warm the session and caches

    with django_assert_max_num_queries(20) as queries:  # the list itself is ~10
        html = client.get(reverse("dunning:today")).content.decode()

    assert html.count("话术建议") == 5
    assert not any("messaging_talkingpoint" in q["sql"] for q in queries.captured_queries)
