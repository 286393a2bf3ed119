"""Who sees which figures: the report scope is built here, from the user's projects and roles, for
pages, exports and background exports alike (one place, so an export cannot see more than the page).

Managers, supervisors, the company admin and finance see every figure of their projects. A steward
sees the same reports limited to the buildings they look after (``ReportScope.steward_id``): their
own figures, nobody else's. Other roles see no reports.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied

from wuye.core import roles
from wuye.core.models import Project, User
from wuye.core.roles import ROLES_SEEING_PHONES
from wuye.core.scope import projects_for, role_in
from wuye.reports.sql import ReportScope


@dataclass(frozen=True)
class Access:
    projects: list[Project]  # the projects whose figures the user may see
    steward_id: int | None  # set: only the buildings this steward looks after

    @property
    def own_only(self) -> bool:
        return self.steward_id is not None

    def scope(self, project_id: int | None = None) -> ReportScope:
        ids = tuple(p.pk for p in self.projects)
        if project_id is not None:
            ids = tuple(i for i in ids if i == project_id)
        return ReportScope(project_ids=ids, steward_id=self.steward_id)


def report_access(user: User) -> Access:
    """The projects ``user`` may see reports of; PermissionDenied when there are none."""
    projects = list(projects_for(user).only("id", "name", "company_id").order_by("name", "id"))
    full = [p for p in projects if role_in(user, p.pk) in roles.REPORT_ROLES]
    if full:
        return Access(full, None)
    own = [p for p in projects if role_in(user, p.pk) in roles.OWN_FIGURES_ROLES]
    if own:
        return Access(own, user.pk)
    raise PermissionDenied(
        "您的角色不能查看报表（报表供项目经理、客服主管、公司管理员和财务使用）。"
    )


def plan_projects(user: User) -> list[Project]:
    access = report_access(user)
    if access.own_only:
        raise PermissionDenied("收费计划只供项目经理、客服主管、公司管理员和财务查看。")
    return access.projects


def sees_names(user: User, project_id: int) -> bool:
    """Payer names in full for the roles that contact owners; finance sees ``张*``."""
    return role_in(user, project_id) in ROLES_SEEING_PHONES
