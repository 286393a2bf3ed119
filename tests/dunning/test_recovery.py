"""Recovery orders (清欠任务单): a supervisor hands a case with arrears older than one year to the
company's task force, who work it from their list."""

import datetime

import pytest
from django.urls import reverse

from tests.dunning import factories
from wuye.core.errors import ValidationFailed
from wuye.core.models import AuditEntry
from wuye.core.roles import Role
from wuye.dunning.assignment import (
    recovery_order_create,
    recovery_order_set_state,
    recovery_orders,
)
from wuye.dunning.models import RecoveryState

DAY = datetime.timedelta(days=1)
pytestmark = pytest.mark.django_db


@pytest.fixture
def task_force(make_user, project):
    return make_user("qingqian", Role.TASK_FORCE, project)


@pytest.fixture
def old_case(project, steward, item, today):
    acct = factories.debtor(project, "7-1-101", steward=steward)
    factories.bill(acct, item, "300.00", today - 420 * DAY, today - 400 * DAY)
    factories.run(project)
    return factories.case_of(acct)


@pytest.fixture
def young_case(project, debtor):
    factories.run(project)
    return factories.case_of(debtor)


def test_a_case_with_arrears_older_than_a_year_becomes_a_recovery_order(
    supervisor, task_force, old_case
):
    order = recovery_order_create(
        user=supervisor, case=old_case, assignee=task_force, notes="重点户"
    )

    assert (order.state, order.assignee, order.amount) == (
        RecoveryState.OPEN,
        task_force,
        old_case.overdue_amount,
    )
    assert AuditEntry.objects.filter(action="下达清欠任务单").count() == 1


def test_arrears_younger_than_a_year_are_refused(supervisor, young_case):
    with pytest.raises(ValidationFailed, match="超过一年"):
        recovery_order_create(user=supervisor, case=young_case)


def test_one_live_order_per_case(supervisor, old_case):
    recovery_order_create(user=supervisor, case=old_case)

    with pytest.raises(ValidationFailed, match="未完成"):
        recovery_order_create(user=supervisor, case=old_case)


def test_the_assignee_must_be_in_the_task_force(supervisor, steward, old_case):
    with pytest.raises(ValidationFailed) as refused:
        recovery_order_create(user=supervisor, case=old_case, assignee=steward)

    assert refused.value.field == "assignee"


def test_a_steward_cannot_create_a_recovery_order(steward, old_case):
    with pytest.raises(ValidationFailed):
        recovery_order_create(user=steward, case=old_case)


def test_the_task_force_takes_up_and_completes_an_order_with_notes(
    supervisor, task_force, old_case
):
    order = recovery_order_create(user=supervisor, case=old_case)

    order = recovery_order_set_state(
        user=task_force, order=order, state="working", note="已约见业主"
    )
    order = recovery_order_set_state(
        user=task_force, order=order, state="done", note="已签还款协议"
    )

    assert order.state == RecoveryState.DONE
    assert order.assignee == task_force
    assert "已约见业主" in order.notes and "已签还款协议" in order.notes


def test_a_done_order_cannot_be_reopened(supervisor, task_force, old_case):
    order = recovery_order_create(user=supervisor, case=old_case)
    recovery_order_set_state(user=task_force, order=order, state="cancelled")

    with pytest.raises(ValidationFailed) as refused:
        recovery_order_set_state(user=task_force, order=order, state="working")

    assert refused.value.field == "state"


def test_the_task_force_list_shows_live_orders_oldest_arrears_first(supervisor, project, old_case):
    recovery_order_create(user=supervisor, case=old_case)

    assert [o.case_id for o in recovery_orders([project.pk])] == [old_case.pk]


def test_the_task_force_sees_the_list_page(client, supervisor, task_force, old_case):
    recovery_order_create(user=supervisor, case=old_case)
    client.force_login(task_force)

    html = client.get(reverse("dunning:recovery")).content.decode()

    assert old_case.room.code in html


def test_the_supervisor_creates_an_order_from_the_case_page(
    client, supervisor, task_force, old_case
):
    client.force_login(supervisor)
    page = client.get(reverse("dunning:case", args=[old_case.pk])).content.decode()
    assert "下达清欠任务单" in page

    client.post(reverse("dunning:recovery_create", args=[old_case.pk]), {"assignee": task_force.pk})

    assert old_case.recovery_orders.get().assignee == task_force


def test_a_steward_has_no_recovery_list(client, steward, old_case):
    client.force_login(steward)

    assert client.get(reverse("dunning:recovery")).status_code == 403
