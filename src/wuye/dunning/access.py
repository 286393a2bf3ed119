"""Who may do what in the dunning workflow, in one place for services, selectors and pages."""

from __future__ import annotations

from wuye.core.models import User
from wuye.core.roles import Role
from wuye.core.scope import can_see_phones

# Who works cases (calls, visits, records); stewards and other staff only their own cases.
WORKER_ROLES = frozenset(
    {
        Role.STEWARD,
        Role.OTHER_STAFF,
        Role.SUPERVISOR,
        Role.PROJECT_MANAGER,
        Role.COMPANY_ADMIN,
        Role.LEGAL,
        Role.TASK_FORCE,
        # The procedure gives cases to the front desk too (SPEC §5 step 3).
        Role.CASHIER,
    }
)
# Who assigns cases and moves them between stages.
SUPERVISOR_ROLES = frozenset({Role.SUPERVISOR, Role.PROJECT_MANAGER, Role.COMPANY_ADMIN})
# Who may send a case to the legal stage (the company approves a lawsuit: SPEC §5 step 9).
LEGAL_APPROVER_ROLES = frozenset({Role.PROJECT_MANAGER, Role.COMPANY_ADMIN})
OWN_CASES_ONLY = frozenset({Role.STEWARD, Role.OTHER_STAFF, Role.CASHIER})
# Who sees the case list and the daily check (the legal department and task force read them too).
OVERSEER_ROLES = SUPERVISOR_ROLES | {Role.LEGAL, Role.TASK_FORCE}


def sees_case_phones(user: User, case) -> bool:
    """Full phone numbers of a case's household: roles whose work is contacting owners, and whoever
    holds the open case — a security guard or a cashier given a case can call that household (and
    only that one: every other page keeps their numbers masked)."""
    if can_see_phones(user, case.project_id):
        return True
    return case.state == "open" and case.assignee_id is not None and case.assignee_id == user.pk
