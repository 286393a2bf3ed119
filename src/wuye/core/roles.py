"""Roles of SPEC §1 and what each may see.

A role is held per project (``Membership``); a few company-wide roles see every project of their company.
What a role may see is data here, in one place, so a check cannot drift between pages, exports and the API.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    COMPANY_ADMIN = "company_admin", _("公司管理员")
    PROJECT_MANAGER = "project_manager", _("项目经理")
    SUPERVISOR = "supervisor", _("客服主管")
    STEWARD = "steward", _("楼管/管家")
    CASHIER = "cashier", _("收费员")
    FINANCE = "finance", _("财务")
    LEGAL = "legal", _("综合部/法务")
    TASK_FORCE = "task_force", _("清欠工作小组")
    OTHER_STAFF = "other_staff", _("其他员工（秩序/工程/保洁）")


# Roles that see every project of their company without a per-project membership.
COMPANY_WIDE_ROLES = frozenset({Role.COMPANY_ADMIN, Role.FINANCE, Role.LEGAL, Role.TASK_FORCE})

# Roles whose work is contacting owners: they see full phone numbers.
ROLES_SEEING_PHONES = frozenset(
    {
        Role.COMPANY_ADMIN,
        Role.PROJECT_MANAGER,
        Role.SUPERVISOR,
        Role.STEWARD,
        Role.LEGAL,
        Role.TASK_FORCE,
    }
)

# Roles that prepare lawsuits, payment orders and contracts: they see full ID numbers.
ROLES_SEEING_ID_NUMBERS = frozenset(
    {Role.COMPANY_ADMIN, Role.PROJECT_MANAGER, Role.LEGAL, Role.TASK_FORCE}
)

# Roles that may change the registry (rooms, people, occupancies) and run imports.
ROLES_EDITING_REGISTRY = frozenset(
    {Role.COMPANY_ADMIN, Role.PROJECT_MANAGER, Role.SUPERVISOR, Role.STEWARD}
)

# Audit rows hold unmasked values, so only roles that see full phone and ID numbers may read them.
AUDIT_ROLES = frozenset({Role.COMPANY_ADMIN, Role.PROJECT_MANAGER, Role.SUPERVISOR})
