"""The admin's data scope: one rule for every model the project registers. Staff who are not
superusers — a careless administrator may tick "staff" and every permission for a project manager —
see only rows of their own projects (and of their own company where a row belongs to no project)."""

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.test import RequestFactory
from django.urls import reverse

from wuye.core.admin import ScopedAdmin, SuperuserOnly
from wuye.core.models import AuditEntry, Company, Membership, Project, User
from wuye.core.roles import Role
from wuye.messaging.models import MessageTemplate, TemplateKind
from wuye.registry.models import Building, Unit

pytestmark = pytest.mark.django_db


def _wuye_admins():
    return [
        (model, model_admin)
        for model, model_admin in admin.site._registry.items()
        if model.__module__.startswith("wuye.")
    ]


@pytest.fixture
def staff_of_project(company, project):
    user = User.objects.create_user(
        "careless-staff", password="pw-careless-staff", company=company, is_staff=True
    )
    user.user_permissions.set(Permission.objects.all())
    Membership.objects.create(user=user, project=project, role=Role.PROJECT_MANAGER)
    return user


@pytest.mark.parametrize(
    ("model", "model_admin"), _wuye_admins(), ids=lambda v: getattr(v, "__name__", "")
)
def test_every_admin_of_the_project_applies_the_data_scope(model, model_admin):
    assert isinstance(model_admin, ScopedAdmin | SuperuserOnly), (
        f"{model.__name__} admin lists every project's rows"
    )


@pytest.mark.parametrize(
    "name", ["core_loginattempt", "core_loginlog", "core_loginfailure", "core_taskrecord"]
)
def test_login_records_and_the_task_queue_are_for_the_superuser_only(
    client, staff_of_project, name
):
    client.force_login(staff_of_project)

    assert client.get(reverse(f"admin:{name}_changelist")).status_code == 403


@pytest.mark.parametrize(
    ("model", "model_admin"), _wuye_admins(), ids=lambda v: getattr(v, "__name__", "")
)
def test_every_admins_scope_path_reaches_a_project_or_company(model, model_admin, staff_of_project):
    request = RequestFactory().get("/")
    request.user = staff_of_project

    list(model_admin.get_queryset(request)[:1])  # a wrong path raises FieldError here


def test_staff_of_one_project_see_none_of_another_projects_buildings(
    client, staff_of_project, project, other_project
):
    Building.objects.create(project=project, name="1栋", code="1")
    theirs = Building.objects.create(project=other_project, name="9栋", code="9")
    Unit.objects.create(building=theirs, name="1单元", code="1")
    client.force_login(staff_of_project)

    page = client.get(reverse("admin:registry_building_changelist")).content.decode()
    units = client.get(reverse("admin:registry_unit_changelist")).content.decode()

    assert "1栋" in page and "9栋" not in page
    assert "1单元" not in units
    assert client.get(reverse("admin:registry_building_change", args=[theirs.pk])).status_code in (
        302,
        404,
    )


def test_staff_see_their_companys_shared_templates_but_not_another_companys(
    client, staff_of_project, company, project
):
    stranger = Company.objects.create(name="别家物业有限公司", short_name="别家")
    Project.objects.create(company=stranger, code="X01", name="别家小区")
    MessageTemplate.objects.create(
        company=company, title="本公司通用模板", kind=TemplateKind.SMS, body="您好"
    )
    MessageTemplate.objects.create(
        company=stranger, title="别家公司模板", kind=TemplateKind.SMS, body="您好"
    )
    client.force_login(staff_of_project)

    page = client.get(reverse("admin:messaging_messagetemplate_changelist")).content.decode()

    assert "本公司通用模板" in page and "别家公司模板" not in page


def test_staff_cannot_pick_another_project_in_an_admin_form(
    client, staff_of_project, project, other_project
):
    client.force_login(staff_of_project)

    form = client.get(reverse("admin:registry_building_add")).content.decode()

    assert project.name in form and other_project.name not in form


def test_the_audit_trail_in_the_admin_is_scoped_to_the_users_projects(
    client, staff_of_project, project, other_project
):
    AuditEntry.objects.create(action="测试", model="x", object_repr="本项目的记录", project=project)
    AuditEntry.objects.create(
        action="测试", model="x", object_repr="别的项目的记录", project=other_project
    )
    client.force_login(staff_of_project)

    page = client.get(reverse("admin:core_auditentry_changelist")).content.decode()

    assert "本项目的记录" in page and "别的项目的记录" not in page
