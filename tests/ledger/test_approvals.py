"""主管授权: approvals checked in one place (wuye.core.approvals)."""

import pytest
from django.test import RequestFactory

from wuye.core.approvals import approver_authenticate, approver_check, roles_text
from wuye.core.errors import ValidationFailed
from wuye.core.models import AuditEntry
from wuye.core.roles import Role

pytestmark = pytest.mark.django_db

ROLES = {Role.SUPERVISOR, Role.PROJECT_MANAGER, Role.COMPANY_ADMIN}


def _request():
    return RequestFactory().post("/ledger/office/", REMOTE_ADDR="10.0.0.7")


def test_roles_text_lists_who_may_approve():
    assert roles_text(ROLES) == "公司管理员、项目经理或客服主管"
    assert roles_text([Role.PROJECT_MANAGER]) == "项目经理"


def test_approver_check(project, supervisor, cashier):
    assert approver_check(project=project, approver=supervisor, roles=ROLES) == supervisor
    with pytest.raises(ValidationFailed) as exc:
        approver_check(project=project, approver=cashier, roles=ROLES)
    assert exc.value.field == "approved_by"
    assert exc.value.message.startswith("cashier 不是本项目的公司管理员、项目经理或客服主管")


def test_supervisor_types_their_password_at_the_cashiers_screen(project, supervisor, cashier):
    user = approver_authenticate(
        request=_request(),
        project=project,
        username="supervisor",
        password="pw-supervisor",
        roles=ROLES,
        requested_by=cashier,
    )
    assert user == supervisor


def test_wrong_password_or_role_is_refused_and_audited(project, supervisor, cashier):
    with pytest.raises(ValidationFailed, match="账号或密码不正确") as exc:
        approver_authenticate(
            request=_request(),
            project=project,
            username="supervisor",
            password="guess",
            roles=ROLES,
            requested_by=cashier,
        )
    assert exc.value.field == "approver_password"
    # A right password of someone who may not approve gets the very same answer as a wrong one.
    wrong_message = exc.value.message
    with pytest.raises(ValidationFailed) as exc:
        approver_authenticate(
            request=_request(),
            project=project,
            username="cashier",
            password="pw-cashier",
            roles=ROLES,
            requested_by=cashier,
        )
    assert (exc.value.message, exc.value.field) == (wrong_message, "approver_password")
    assert AuditEntry.objects.filter(action="主管授权失败").count() == 2
    with pytest.raises(ValidationFailed) as exc:
        approver_authenticate(
            request=_request(), project=project, username="", password="x", roles=ROLES
        )
    assert exc.value.field == "approver_username"
