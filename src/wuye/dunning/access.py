"""Who may do what in the dunning workflow, in one place for services, selectors and pages."""

from __future__ import annotations

from wuye.core.roles import Role

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
    }
)
# Who assigns cases and moves them between stages.
SUPERVISOR_ROLES = frozenset({Role.SUPERVISOR, Role.PROJECT_MANAGER, Role.COMPANY_ADMIN})
# Who may send a case to the legal stage (the company approves a lawsuit: SPEC §5 step 9).
LEGAL_APPROVER_ROLES = frozenset({Role.PROJECT_MANAGER, Role.COMPANY_ADMIN})
OWN_CASES_ONLY = frozenset({Role.STEWARD, Role.OTHER_STAFF})
# Who sees the case list and the daily check (the legal department and task force read them too).
OVERSEER_ROLES = SUPERVISOR_ROLES | {Role.LEGAL, Role.TASK_FORCE}
