"""A refusal's legacy issue stays on the case (issue 16 item 3): a contact that cites the issue (or
the steward) links it; the case shows it for good — after the issue is resolved and the case closed
— and the evidence pack carries the issue and its history."""

import pytest
from django.urls import reverse

from tests.dunning import factories
from wuye.core.errors import ValidationFailed
from wuye.dunning.contacts import case_link_issue, contact_record
from wuye.dunning.enums import CaseClass
from wuye.dunning.evidence import evidence_index
from wuye.dunning.models import CaseIssueLink
from wuye.registry import services as registry

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(project, debtor):
    factories.run(project)
    return factories.case_of(debtor)


@pytest.fixture
def leak(case, today):
    return registry.legacy_issue_create(
        user=None,
        room=case.room,
        title="卫生间漏水",
        responsible_party="company",
        reported_on=today,
        description="楼上管道渗漏",
    )


def refuse(steward, case, today, issue):
    at = factories.at(today, 10)
    return contact_record(
        user=steward,
        case=case,
        channel="phone",
        reached=True,
        refusal_reason="leak",
        owner_said="漏水修好再交",
        legacy_issue=issue,
        at=at,
        now=at,
    )


def test_a_refusal_citing_the_issue_links_it_to_the_case(steward, case, leak, today):
    record = refuse(steward, case, today, leak)

    link = CaseIssueLink.objects.get()
    assert (link.case_id, link.issue_id, link.contact_id) == (case.pk, leak.pk, record.pk)
    case.refresh_from_db()
    assert case.case_class == CaseClass.E


def test_the_link_stays_on_the_closed_case_after_the_issue_is_resolved(
    client, supervisor, steward, cashier, case, leak, debtor, today
):
    refuse(steward, case, today, leak)
    registry.legacy_issue_change_state(user=None, issue=leak, state="resolved", note="已更换管道")
    factories.pay(cashier, debtor, case.overdue_amount)
    factories.run(case.project)
    case.refresh_from_db()
    assert case.state == "closed"

    client.force_login(supervisor)
    html = client.get(reverse("dunning:case", args=[case.pk])).content.decode()

    section = html.split('id="linked-issues"')[1].split("</section>")[0]
    assert "卫生间漏水" in section and "已解决" in section and "已更换管道" in section


def test_the_steward_links_an_issue_from_the_case_page(client, steward, case, leak):
    client.force_login(steward)

    client.post(
        reverse("dunning:link_issue", args=[case.pk]),
        {"legacy_issue": leak.pk, "note": "业主电话中提到"},
    )

    assert CaseIssueLink.objects.get().note == "业主电话中提到"


def test_an_issue_of_another_room_cannot_be_linked(steward, case, project, item, today):
    other = factories.debtor(project, "5-1-301", owner="李四", phones=("13900001111",))
    issue = registry.legacy_issue_create(
        user=None,
        room=other.room,
        title="外墙开裂",
        responsible_party="developer",
        reported_on=today,
    )

    with pytest.raises(ValidationFailed):
        case_link_issue(user=steward, case=case, issue=issue)
    with pytest.raises(ValidationFailed):
        refuse(steward, case, today, issue)


def test_linking_twice_keeps_one_link(steward, case, leak, today):
    refuse(steward, case, today, leak)
    case_link_issue(user=steward, case=case, issue=leak)

    assert CaseIssueLink.objects.count() == 1


def test_the_evidence_pack_carries_the_issue_and_its_history(steward, case, leak, today):
    refuse(steward, case, today, leak)
    registry.legacy_issue_change_state(user=None, issue=leak, state="resolved", note="已更换管道")

    index = evidence_index(user=steward, case=case, on=today)

    section = index.sections[3]
    assert section.title.startswith("四、")
    [row] = section.rows
    assert "卫生间漏水" in row[0] and "已解决" in row[1]
    assert "业主在" in row[2] and "已更换管道" in row[3]
