"""The dunning pages: today's list (steward's own cases only), the case file, the supervisor's list,
reassignment and daily check; scope (another project's case is a 404)."""

import datetime

import pytest
from django.urls import reverse

from tests import uploads
from tests.dunning import factories
from wuye.core.roles import Role
from wuye.dunning.enums import CaseClass, EventKind
from wuye.dunning.models import ContactRecord

DAY = datetime.timedelta(days=1)
pytestmark = pytest.mark.django_db


@pytest.fixture
def case(project, debtor):
    factories.run(project)
    return factories.case_of(debtor)


@pytest.fixture
def other_case(make_user, project, item, today):
    """A case of 5-1-301, stewarded by someone else."""
    other = make_user("steward2", Role.STEWARD, project)
    acct = factories.debtor(
        project, "5-1-301", steward=other, owner="李四", phones=("13900001111",)
    )
    factories.bill(acct, item, "80.00", today - 60 * DAY, today - 30 * DAY)
    factories.run(project)
    return factories.case_of(acct)


def test_today_lists_the_stewards_own_cases_with_click_to_call(client, steward, case, other_case):
    client.force_login(steward)

    page = client.get(reverse("dunning:today"))

    assert page.status_code == 200
    html = page.content.decode()
    assert "3-2-1502" in html
    assert 'href="tel:13812345678"' in html
    assert "5-1-301" not in html


def test_the_outcome_form_comes_with_the_phone_camera(client, steward, case):
    client.force_login(steward)

    html = client.get(reverse("dunning:contact_form", args=[case.pk])).content.decode()

    assert 'capture="environment"' in html
    assert 'name="outcome" value="no_answer"' in html


def test_a_steward_cannot_open_another_stewards_case(client, steward, other_case):
    client.force_login(steward)

    assert client.get(reverse("dunning:case", args=[other_case.pk])).status_code == 404


def test_a_case_of_another_project_is_not_found(client, make_user, other_project, case):
    outsider = make_user("outsider", Role.SUPERVISOR, other_project)
    client.force_login(outsider)

    assert client.get(reverse("dunning:case", args=[case.pk])).status_code == 404


def test_a_cashier_has_only_their_own_cases_no_case_list(client, cashier, case):
    client.force_login(cashier)

    assert "3-2-1502" not in client.get(reverse("dunning:today")).content.decode()
    assert client.get(reverse("dunning:cases")).status_code == 403


def test_today_takes_a_fixed_number_of_queries(
    client, steward, case, project, item, today, django_assert_max_num_queries
):
    for n in range(5):
        acct = factories.debtor(project, f"3-2-{160 + n}", steward=steward, owner=f"户主{n}")
        factories.bill(acct, item, "50.00", today - 60 * DAY, today - 30 * DAY)
    factories.run(project)
    client.force_login(steward)

    with django_assert_max_num_queries(15):  # the list's order from light rows, then its cards
        page = client.get(reverse("dunning:today"))
    assert page.content.decode().count('class="task-card') == 6


def test_today_shows_a_page_of_cards_in_order_and_reads_only_those(
    client, steward, project, item, today, monkeypatch
):
    from wuye.dunning import selectors, today_views

    for n in range(7):
        acct = factories.debtor(project, f"2-1-{100 + n}", steward=steward, owner=f"户主{n}")
        factories.bill(acct, item, f"{100 + 10 * n}.00", today - 60 * DAY, today - 30 * DAY)
    factories.run(project)
    monkeypatch.setattr(today_views, "TODAY_PAGE", 3)
    read = []
    task_rows = selectors._task_rows
    monkeypatch.setattr(
        selectors, "_task_rows", lambda rows, on: read.append(rows.count()) or task_rows(rows, on)
    )
    client.force_login(steward)
    everything = [
        c.room.code for c in selectors.today_tasks(user=steward, project_id=project.pk, on=today)
    ]
    read.clear()

    first = client.get(reverse("dunning:today")).content.decode()
    third = client.get(reverse("dunning:today") + "?page=3").content.decode()

    assert read == [3, 1]  # a page's cards, never the whole list
    assert "共 7 件" in first and "?page=2" in first and "?page=3" not in first
    assert [code for code in everything[:3] if code in first] == everything[:3]
    assert everything[3] not in first
    assert everything[6] in third and everything[0] not in third


def test_recording_an_outcome_from_today_returns_the_updated_card(client, steward, case, today):
    client.force_login(steward)
    phone = case.account.payer.phones.get()

    response = client.post(
        reverse("dunning:contact", args=[case.pk]),
        {
            "from": "today",
            "outcome": "promise",
            "channel": "phone",
            "phone": phone.pk,
            "promise_date": (today + 10 * DAY).isoformat(),
            "promise_amount": "200",
            "at": f"{today - DAY}T10:00",
        },
        HTTP_HX_REQUEST="true",
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "已登记" in html
    assert "A 近期交纳" in html
    case.refresh_from_db()
    assert case.case_class == CaseClass.A
    assert case.next_action_on == today + 9 * DAY


def test_a_refused_contact_shows_the_rule_next_to_the_field(client, steward, case, today):
    client.force_login(steward)

    response = client.post(
        reverse("dunning:contact", args=[case.pk]),
        {"from": "today", "outcome": "no_answer", "channel": "phone", "at": f"{today - DAY}T23:00"},
        HTTP_HX_REQUEST="true",
    )

    html = response.content.decode()
    assert "本公司联系规范" in html and "LAW.md" not in html
    assert 'data-field="at"' in html  # the backdated time is the field at fault
    assert not ContactRecord.objects.exists()


def test_a_promise_without_a_date_is_asked_for_it(client, steward, case, today):
    client.force_login(steward)

    response = client.post(
        reverse("dunning:contact", args=[case.pk]),
        {"from": "today", "outcome": "promise", "channel": "phone", "at": f"{today - DAY}T10:00"},
        HTTP_HX_REQUEST="true",
    )

    assert "请选择业主承诺的缴费日期" in response.content.decode()


def test_the_case_page_shows_household_issues_contacts_and_timeline(client, steward, case):
    from wuye.registry import services as registry

    registry.legacy_issue_create(
        user=None,
        room=case.room,
        title="卫生间楼板渗漏",
        responsible_party="developer",
        reported_on=datetime.date(2024, 6, 3),
    )
    client.force_login(steward)

    html = client.get(reverse("dunning:case", args=[case.pk])).content.decode()

    assert "卫生间楼板渗漏" in html
    assert "¥200.00" in html
    assert "立案" in html


def test_the_supervisor_reassigns_cases_with_a_reason(client, supervisor, case, other_case):
    client.force_login(supervisor)
    other = other_case.assignee

    response = client.post(
        reverse("dunning:cases"),
        {"case": [case.pk], "assignee": other.pk, "reason": "均衡工作量"},
    )

    assert response.status_code == 302
    case.refresh_from_db()
    assert case.assignee == other
    event = case.events.get(kind=EventKind.ASSIGNEE)
    assert event.reason == "均衡工作量"
    assert event.by == supervisor


def test_reassigning_without_a_reason_is_refused(client, supervisor, case, other_case):
    client.force_login(supervisor)

    client.post(reverse("dunning:cases"), {"case": [case.pk], "assignee": other_case.assignee_id})

    case.refresh_from_db()
    assert case.assignee != other_case.assignee


def test_the_case_list_filters_by_assignee(client, supervisor, case, other_case):
    client.force_login(supervisor)

    html = client.get(
        reverse("dunning:cases"), {"assignee": other_case.assignee_id}
    ).content.decode()

    assert "5-1-301" in html
    assert "3-2-1502" not in html


def test_the_daily_check_lists_each_stewards_records(client, supervisor, steward, case, today):
    from wuye.dunning.contacts import contact_record

    at = factories.at(today, 10)
    contact_record(
        user=steward, case=case, channel="phone", reached=True, owner_said="月底交", at=at, now=at
    )
    client.force_login(supervisor)

    html = client.get(reverse("dunning:check")).content.decode()

    assert "月底交" in html
    assert str(steward) in html


def test_today_puts_promises_due_tomorrow_first_then_amount_times_aging(
    steward, project, item, today
):
    from wuye.dunning.contacts import contact_record
    from wuye.dunning.selectors import today_tasks

    def owing(code, amount, days_overdue):
        acct = factories.debtor(project, code, steward=steward, owner=code)
        factories.bill(
            acct, item, amount, today - (days_overdue + 20) * DAY, today - days_overdue * DAY
        )
        return acct

    small_old = owing("1-1-101", "100.00", 50)  # 100 × 50 = 5,000
    big_new = owing("1-1-102", "1000.00", 20)  # 1,000 × 20 = 20,000
    promised = owing("1-1-103", "10.00", 20)
    factories.run(project, today - DAY)
    at = factories.at(today - DAY, 10)
    contact_record(
        user=steward,
        case=factories.case_of(promised),
        channel="phone",
        reached=True,
        promise_date=today + DAY,
        at=at,
        now=at,
    )

    order = [c.account_id for c in today_tasks(user=steward, project_id=project.pk, on=today)]

    assert order == [promised.pk, big_new.pk, small_old.pk]


def test_the_supervisor_starts_todays_run_from_the_case_list(client, supervisor, debtor):
    client.force_login(supervisor)

    client.post(reverse("dunning:run"))

    assert factories.case_of(debtor) is not None
    assert "新立案 1" in client.get(reverse("dunning:cases")).content.decode()


def test_a_steward_cannot_start_the_run(client, steward, debtor):
    client.force_login(steward)

    assert client.post(reverse("dunning:run")).status_code == 403


def test_evidence_photos_are_served_only_within_scope(
    client, steward, make_user, other_project, case, today, settings, tmp_path
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from wuye.dunning.contacts import contact_record

    settings.MEDIA_ROOT = tmp_path
    at = factories.at(today, 10)
    record = contact_record(
        user=steward,
        case=case,
        channel="door_notice",
        reached=False,
        at=at,
        now=at,
        attachments=[SimpleUploadedFile("notice.jpg", uploads.JPEG, content_type="image/jpeg")],
    )
    url = reverse("dunning:attachment", args=[record.attachments.get().pk])

    client.force_login(steward)
    assert b"".join(client.get(url).streaming_content) == uploads.JPEG
    client.force_login(make_user("outsider", Role.SUPERVISOR, other_project))
    assert client.get(url).status_code == 404


def test_a_workplace_visit_warns_the_steward_not_to_tell_colleagues(
    client, steward, supervisor, case, debtor
):
    """Issue 13 item 11 (《个人信息保护法》第二十三条): on the task and on the record form."""
    from wuye.dunning.enums import Stage
    from wuye.dunning.legal_stage import case_set_stage
    from wuye.registry import services as registry

    registry.person_update(user=None, person=debtor.payer, work_address="高新区软件园 5 号楼")
    case_set_stage(user=supervisor, case=case, stage=Stage.VISIT, reason="电话多次未果")
    client.force_login(steward)

    today_page = client.get(reverse("dunning:today")).content.decode()
    form = client.get(reverse("dunning:contact_form", args=[case.pk])).content.decode()

    assert "workplace-warning" in today_page and "第二十三条" in today_page
    assert "不得向同事、领导或前台透露欠费" in form
