"""Recording a contact (催缴记录): the outcome sets the class and the phone's validity mark; LAW.md's
guardrails refuse what is unlawful, citing the rule; records are immutable evidence."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from tests import uploads
from tests.dunning import factories
from wuye.core.errors import ValidationFailed
from wuye.dunning.contacts import contact_record
from wuye.dunning.enums import CaseClass, CaseState, Channel, EventKind, NextAction
from wuye.dunning.models import ContactRecord
from wuye.registry import services as registry
from wuye.registry.enums import PhoneValidity

DAY = datetime.timedelta(days=1)
pytestmark = pytest.mark.django_db


@pytest.fixture
def case(project, debtor):
    factories.run(project)
    return factories.case_of(debtor)


@pytest.fixture
def phone(debtor):
    return debtor.payer.phones.get()


@pytest.fixture
def morning(today):
    return factories.at(today, 10)


def record(user, case, at, now=None, **kwargs):
    kwargs.setdefault("channel", Channel.PHONE)
    kwargs.setdefault("reached", True)
    return contact_record(user=user, case=case, at=at, now=now or at, **kwargs)


# --- outcome → class ---------------------------------------------------------------------------------


def test_a_promise_with_a_date_makes_class_a_with_a_call_the_day_before(
    steward, case, phone, morning, today
):
    record(steward, case, morning, phone=phone, promise_date=today + 10 * DAY, promise_amount="200")

    case.refresh_from_db()
    assert case.case_class == CaseClass.A
    assert case.promise_date == today + 10 * DAY
    assert case.promise_amount == 200
    assert case.next_action == NextAction.PROMISE_EVE_CALL
    assert case.next_action_on == today + 9 * DAY


def test_no_answer_makes_class_b_called_again_tomorrow_and_marks_the_phone(
    steward, case, phone, morning, today
):
    record(steward, case, morning, phone=phone, reached=False, unreached_reason="no_answer")

    case.refresh_from_db()
    phone.refresh_from_db()
    assert case.case_class == CaseClass.B
    assert case.next_action == NextAction.DAILY_CALL
    assert case.next_action_on == today + DAY
    assert phone.validity == PhoneValidity.NO_ANSWER


def test_a_disconnected_number_makes_class_c_and_marks_the_phone_dead(
    steward, case, phone, morning
):
    record(steward, case, morning, phone=phone, reached=False, unreached_reason="disconnected")

    case.refresh_from_db()
    phone.refresh_from_db()
    assert case.case_class == CaseClass.C
    assert case.next_action == NextAction.FIND_NUMBER
    assert phone.validity == PhoneValidity.DISCONNECTED


def test_reaching_the_owner_marks_the_phone_valid(steward, case, phone, morning):
    record(steward, case, morning, phone=phone, owner_said="这两天看看")

    phone.refresh_from_db()
    assert phone.validity == PhoneValidity.OK
    case.refresh_from_db()
    assert case.case_class == CaseClass.B


def test_a_refusal_makes_class_e_for_the_supervisor(steward, case, morning):
    record(steward, case, morning, refusal_reason="leak", owner_said="楼上漏水没人管")

    case.refresh_from_db()
    assert case.case_class == CaseClass.E
    assert case.next_action == NextAction.SUPERVISOR_REVIEW


def test_living_elsewhere_makes_class_d(steward, case, morning):
    record(steward, case, morning, lives_elsewhere=True, owner_said="在外地工作")

    case.refresh_from_db()
    assert case.case_class == CaseClass.D
    assert case.next_action == NextAction.REMOTE_GUIDE


def test_another_class_than_the_outcome_needs_a_reason(steward, case, morning):
    with pytest.raises(ValidationFailed) as refused:
        record(steward, case, morning, reached=False, unreached_reason="no_answer", case_class="D")
    assert refused.value.field == "class_reason"

    record(
        steward,
        case,
        morning,
        reached=False,
        unreached_reason="no_answer",
        case_class="D",
        class_reason="邻居说长期在深圳工作",
    )
    case.refresh_from_db()
    assert case.case_class == CaseClass.D
    event = case.events.get(kind=EventKind.CLASS)
    assert event.reason == "邻居说长期在深圳工作"
    assert event.by == steward


# --- guardrails ---------------------------------------------------------------------------------------


def test_a_call_outside_the_working_window_is_refused_citing_the_rule(steward, case, today):
    lunch = factories.at(today.replace(month=11), 13)  # winter window: 9–12, 14–19

    with pytest.raises(ValidationFailed) as refused:
        record(steward, case, lunch)

    assert refused.value.code == "dunning.outside_hours"
    assert "本公司联系规范" in refused.value.message and "LAW.md" not in refused.value.message
    assert "09:00–12:00、14:00–19:00" in refused.value.message
    assert f"下一个可联系时段从 {lunch:%m-%d} 14:00 开始" in refused.value.message
    assert not ContactRecord.objects.exists()


def test_summer_afternoon_window_starts_at_three(steward, case, morning):
    summer = datetime.date(morning.year - 1, 7, 15)  # a past call, recorded today
    with pytest.raises(ValidationFailed, match="15:00–20:00"):
        record(steward, case, factories.at(summer, 14, 30), now=morning)
    record(steward, case, factories.at(summer, 15, 30), now=morning)


def test_dead_numbers_are_offered_last(steward, case, debtor, morning):
    from wuye.dunning.selectors import today_card

    registry.phone_add(user=None, person=debtor.payer, number="13900002222")
    first = debtor.payer.phones.get(number="13812345678")
    registry.phone_mark_validity(user=None, phone=first, validity="wrong_number")

    card = today_card(case.pk, morning.date())

    assert [p.number for p in card.account.payer.phones.all()] == ["13900002222", "13812345678"]


def test_a_visit_late_at_night_is_refused(steward, case, today):
    with pytest.raises(ValidationFailed, match="22:00–08:00"):
        record(steward, case, factories.at(today, 21), channel=Channel.VISIT_HOME)


def test_sms_follows_its_own_window(steward, case, today):
    record(steward, case, factories.at(today, 20, 30), channel=Channel.SMS, reached=False)
    with pytest.raises(ValidationFailed, match="短信"):
        record(steward, case, factories.at(today, 21, 30), channel=Channel.SMS, reached=False)


def test_a_talk_at_the_window_is_recorded_any_time(steward, case, today):
    record(steward, case, factories.at(today, 12, 30), channel=Channel.WINDOW)


def test_an_owner_who_asked_for_written_contact_only_cannot_be_phoned(
    steward, case, debtor, morning
):
    registry.person_update(user=None, person=debtor.payer, written_contact_only=True)

    with pytest.raises(ValidationFailed) as refused:
        record(steward, case, morning)
    assert refused.value.code == "dunning.written_only"
    with pytest.raises(ValidationFailed):
        record(steward, case, morning, channel=Channel.VISIT_HOME)

    record(steward, case, morning, channel=Channel.MAIL, reached=False, delivery_status="sent")


def test_a_fourth_call_in_a_day_is_refused(steward, case, today):
    for hour in (9, 10, 11):
        record(
            steward, case, factories.at(today, hour), reached=False, unreached_reason="no_answer"
        )

    with pytest.raises(ValidationFailed) as refused:
        record(steward, case, factories.at(today, 15), reached=False, unreached_reason="no_answer")
    assert refused.value.code == "dunning.over_cap"


@pytest.mark.parametrize("plan", ["再不交就停水", "下周断电", "锁梯卡", "把欠费名单张贴公示"])
def test_a_note_planning_an_unlawful_measure_is_refused(steward, case, morning, plan):
    with pytest.raises(ValidationFailed) as refused:
        record(steward, case, morning, note=plan)
    assert "《民法典》第九百四十四条" in refused.value.message
    assert refused.value.field == "note"


def test_a_household_with_nothing_overdue_is_not_chased(steward, cashier, case, debtor, morning):
    factories.pay(
        cashier, debtor, "200.00", include_late_fees=False
    )  # paid; the run has not run yet

    with pytest.raises(ValidationFailed) as refused:
        record(steward, case, morning)

    assert refused.value.code == "dunning.nothing_overdue"
    assert "误催" in refused.value.message
    case.refresh_from_db()
    assert case.state == CaseState.CLOSED


def test_a_steward_records_only_on_own_cases(make_user, project, case, morning):
    from wuye.core.roles import Role

    other = make_user("steward2", Role.STEWARD, project)
    with pytest.raises(ValidationFailed, match="只能"):
        record(other, case, morning)


def test_a_contact_cannot_be_dated_in_the_future(steward, case, morning):
    with pytest.raises(ValidationFailed) as refused:
        contact_record(
            user=steward, case=case, channel="phone", reached=True, at=morning + DAY, now=morning
        )
    assert refused.value.field == "at"


# --- evidence ---------------------------------------------------------------------------------------


def test_a_contact_record_cannot_be_changed_or_deleted(steward, case, morning):
    saved = record(steward, case, morning, owner_said="月底交")

    saved.owner_said = "改过的话"
    with pytest.raises(ValidationError):
        saved.save()
    with pytest.raises(ValidationError):
        saved.delete()
    assert ContactRecord.objects.get(pk=saved.pk).owner_said == "月底交"


def test_a_correction_is_a_new_record_pointing_at_the_old_one(steward, case, morning, today):
    wrong = record(steward, case, morning, promise_date=today + 3 * DAY)

    fixed = record(
        steward, case, morning, promise_date=today + 5 * DAY, corrects=wrong, note="日期记错"
    )

    assert fixed.pk != wrong.pk
    assert list(wrong.corrections.all()) == [fixed]
    assert ContactRecord.objects.get(pk=wrong.pk).promise_date == today + 3 * DAY
    case.refresh_from_db()
    assert case.promise_date == today + 5 * DAY


def test_a_photo_is_kept_with_its_fingerprint(steward, case, morning, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    photo = SimpleUploadedFile("door.jpg", uploads.JPEG, content_type="image/jpeg")

    saved = record(
        steward, case, morning, channel=Channel.DOOR_NOTICE, reached=False, attachments=[photo]
    )

    attachment = saved.attachments.get()
    assert attachment.original_name == "door.jpg"
    assert len(attachment.sha256) == 64
    assert (tmp_path / attachment.file.name).read_bytes() == uploads.JPEG


def test_a_call_refused_late_in_the_evening_leaves_the_case_on_todays_list(steward, case, today):
    before = case.next_action_on
    evening = factories.at(today, 21)

    with pytest.raises(ValidationFailed):
        record(steward, case, evening, reached=False, unreached_reason="no_answer")

    case.refresh_from_db()
    assert case.next_action_on == before
    assert case.next_action_on <= today


def test_a_call_over_the_weekly_cap_moves_the_task_to_next_week(steward, case, today):
    monday = today - datetime.timedelta(days=today.weekday())
    calls = [(day, hour) for day in range(4) for hour in (9, 10, 11)][:10]
    for day, hour in calls:
        at = factories.at(monday + datetime.timedelta(days=day), hour)
        record(steward, case, at, reached=False, unreached_reason="no_answer")

    thursday_afternoon = factories.at(monday + datetime.timedelta(days=3), 15)
    with pytest.raises(ValidationFailed) as refused:
        record(steward, case, thursday_afternoon, reached=False, unreached_reason="no_answer")

    assert "每周上限" in refused.value.message
    case.refresh_from_db()
    assert case.next_action_on == monday + datetime.timedelta(days=7)


def _second_case_of_the_same_payer(project, other_project, item, today, steward, debtor):
    """Another flat of the same owner (same ID number, same phone) in another project of the company."""
    from wuye.core.models import Membership
    from wuye.core.roles import Role
    from wuye.registry.models import Person

    Membership.objects.create(user=steward, project=other_project, role=Role.STEWARD)
    acct = factories.debtor(other_project, "1-1-101", steward=steward, phones=("13812345678",))
    Person.objects.filter(pk__in=[debtor.payer_id, acct.payer_id]).update(
        id_number="110101198003077710"
    )
    factories.bill(acct, item, "100.00", today - 60 * DAY, today - 40 * DAY)
    factories.run(other_project)
    return factories.case_of(acct)


def test_call_caps_count_the_person_across_cases_and_projects_of_the_company(
    steward, case, phone, project, other_project, item, today, debtor
):
    other = _second_case_of_the_same_payer(project, other_project, item, today, steward, debtor)
    for hour in (9, 10, 11):
        record(
            steward,
            case,
            factories.at(today, hour),
            phone=phone,
            reached=False,
            unreached_reason="no_answer",
        )

    with pytest.raises(ValidationFailed) as refused:
        record(
            steward,
            other,
            factories.at(today, 15),
            used="13900009999",
            reached=False,
            unreached_reason="no_answer",
        )
    assert refused.value.code == "dunning.over_cap"
    assert "其他项目" in refused.value.message
    assert "LAW.md" not in refused.value.message


def test_call_caps_count_the_phone_number_whoever_it_is_registered_to(
    steward, case, phone, project, item, today
):
    """Two households sharing one number (a couple with two flats): one number, one cap."""
    acct = factories.debtor(
        project, "3-2-1503", steward=steward, owner="李四", phones=("13812345678",)
    )
    factories.bill(acct, item, "100.00", today - 60 * DAY, today - 40 * DAY)
    factories.run(project)
    other = factories.case_of(acct)
    for hour in (9, 10, 11):
        record(
            steward,
            case,
            factories.at(today, hour),
            phone=phone,
            reached=False,
            unreached_reason="no_answer",
        )

    with pytest.raises(ValidationFailed) as refused:
        record(
            steward,
            other,
            factories.at(today, 15),
            phone=acct.payer.phones.get(),
            reached=False,
            unreached_reason="no_answer",
        )
    assert refused.value.code == "dunning.over_cap"
    assert "13812345678" in refused.value.message


def test_a_cap_above_the_legal_limit_is_clamped_at_run_time():
    """A settings row that slipped past the database (an old row, a raw write) still cannot widen
    the caps: at most 6 attempts a day to one number."""
    from wuye.dunning.models import DunningSettings
    from wuye.dunning.rules import call_caps

    assert call_caps(DunningSettings(max_calls_per_day=9, max_calls_per_week=99)) == (6, 42)
    assert call_caps(DunningSettings(max_calls_per_day=2, max_calls_per_week=5)) == (2, 5)


def test_what_the_owner_said_and_the_note_are_checked_on_a_contact(project, steward, debtor):
    factories.run(project)
    case = factories.case_of(debtor)
    at = factories.at(factories.today(), 10)
    for field in ("owner_said", "note"):
        with pytest.raises(ValidationFailed) as refused:
            contact_record(
                user=steward,
                case=case,
                channel="phone",
                reached=True,
                at=at,
                now=at,
                **{field: "下周停止供水"},
            )
        assert refused.value.field == field
    contact_record(
        user=steward,
        case=case,
        channel="phone",
        reached=True,
        at=at,
        now=at,
        owner_said="业主说楼上停水导致漏水",
    )
