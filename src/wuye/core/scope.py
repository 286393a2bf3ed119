"""Data scope: every page, list, export and API call starts from the projects a user belongs to.

Use ``projects_for`` to filter and ``access_project`` to fetch one project; never query ``Project``
directly in a view.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet

from wuye.core.errors import NotInScope, ValidationFailed
from wuye.core.models import Membership, Project, User
from wuye.core.roles import (
    COMPANY_WIDE_ROLES,
    ROLES_EDITING_REGISTRY,
    ROLES_SEEING_ID_NUMBERS,
    ROLES_SEEING_PHONES,
    Role,
)


def projects_for(user: User) -> QuerySet[Project]:
    if not user.is_authenticated or not user.is_active:
        return Project.objects.none()
    if user.is_superuser:
        return Project.objects.all()
    if user.company_id and user.company_role in COMPANY_WIDE_ROLES:
        return Project.objects.filter(company_id=user.company_id)
    return Project.objects.filter(memberships__user=user)


def project_ids_for(user: User) -> list[int]:
    cached = getattr(user, "_wuye_project_ids", None)
    if cached is None:
        cached = list(projects_for(user).values_list("id", flat=True))
        user._wuye_project_ids = cached
    return cached


def scoped_rows(
    rows: QuerySet, user: User, project_path: str | None, company_path: str | None = None
) -> QuerySet:
    """``rows`` cut to what ``user`` may see: rows of the user's projects (reached through
    ``project_path``, e.g. ``"room__project_id"``) and, with ``company_path``, the company's own rows
    that belong to no project (company-wide templates). The one data-scope rule of every admin list."""
    if user.is_superuser:
        return rows
    if not user.is_authenticated or not user.is_active:
        return rows.none()
    allowed = Q(pk__in=[])
    if project_path is not None:
        allowed |= Q(**{f"{project_path}__in": project_ids_for(user)})
    if company_path is not None and user.company_id:
        company_rows = Q(**{company_path: user.company_id})
        if project_path is not None:
            company_rows &= Q(**{f"{project_path}__isnull": True})
        allowed |= company_rows
    return rows.filter(allowed)


def access_role(user: User, project_id: int, allowed: frozenset[Role], doing: str) -> Role:
    """The user's role in the project, when it is one of ``allowed`` (a grant of ``core.roles``);
    otherwise 403 with what was refused (``doing``: "查看日结")."""
    role = role_in(user, project_id)
    if role not in allowed:
        raise PermissionDenied(f"您的角色不能{doing}。")
    return role


def actor_role(user: User | None, project_id: int, allowed: frozenset[Role], doing: str) -> Role:
    """``access_role`` for services: the acting user must be logged in, in the project's scope and
    hold a role of ``allowed``; the refusal names the user and the role."""
    if user is None or not user.is_authenticated or not user.is_active:
        raise ValidationFailed(f"{doing}需要登录的操作人", field="user")
    role = role_in(user, project_id)
    if role is None:
        raise NotInScope("您没有该项目的权限。")
    if role not in allowed:
        raise ValidationFailed(f"{user}（{role.label}）不能{doing}", field="user")
    return role


def access_project(user: User, project_id: int) -> Project:
    project = projects_for(user).filter(pk=project_id).first()
    if project is None:
        raise NotInScope("您没有该项目的权限。")
    return project


def role_in(user: User, project: Project | int) -> Role | None:
    """The user's role in ``project``: a company-wide role wins over a membership."""
    project_id = project.pk if isinstance(project, Project) else project
    if user.is_superuser:
        return Role.COMPANY_ADMIN
    if user.company_role in COMPANY_WIDE_ROLES and project_id in project_ids_for(user):
        return Role(user.company_role)
    cache = getattr(user, "_wuye_roles", None)
    if cache is None:
        cache = dict(Membership.objects.filter(user=user).values_list("project_id", "role"))
        user._wuye_roles = cache
    role = cache.get(project_id)
    return Role(role) if role else None


def can_see_phones(user: User, project: Project | int) -> bool:
    return role_in(user, project) in ROLES_SEEING_PHONES


def can_see_id_numbers(user: User, project: Project | int) -> bool:
    return role_in(user, project) in ROLES_SEEING_ID_NUMBERS


def can_edit_registry(user: User, project: Project | int) -> bool:
    return role_in(user, project) in ROLES_EDITING_REGISTRY
