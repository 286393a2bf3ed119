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


# --- Who may do what -------------------------------------------------------------------------------
# Each grant is defined here once; services check the actor with ``core.scope.actor_role`` and views
# with ``core.scope.access_role``. Two grants with the same members stay two grants: they answer
# different questions and may be tuned apart.

_MANAGERS = frozenset({Role.PROJECT_MANAGER, Role.COMPANY_ADMIN})
_SUPERVISORS = _MANAGERS | {Role.SUPERVISOR}

# Who may take money (at the window, at the door with a POS, by an owner's payment code, or posting a
# bank transfer), print receipts and payment notices, record an invoice request and read the list of
# them, and ask for an online payment's refund (approved by PAYMENT_APPROVER_ROLES).
COLLECTOR_ROLES = _SUPERVISORS | {Role.CASHIER, Role.FINANCE, Role.STEWARD}
# Who may approve a payment reversal (冲红), a prepaid or online refund, a back-dated payment, or the
# reopening of a closed day (主管授权, four eyes).
PAYMENT_APPROVER_ROLES = _SUPERVISORS
# Who may look at any cashier's day (日结) and the list of closings: those who approve, and finance.
CLOSING_OVERSEER_ROLES = PAYMENT_APPROVER_ROLES | {Role.FINANCE}
# Who may approve a change to a bill: waiver (减免), adjustment, late-fee waiver.
BILL_APPROVER_ROLES = _MANAGERS
# Who marks invoice requests issued (finance keeps the tax books).
INVOICE_ISSUER_ROLES = frozenset({Role.FINANCE, Role.COMPANY_ADMIN})
# Who reconciles online payments with the platforms' statements (对账).
RECONCILE_ROLES = frozenset({Role.FINANCE, Role.COMPANY_ADMIN})
# Who sets up fees and standards and starts billing runs.
BILLING_RUN_ROLES = _MANAGERS | {Role.FINANCE}
# Who records meter readings and shared charges (stewards read the meters).
METER_READING_ROLES = BILLING_RUN_ROLES | {Role.SUPERVISOR, Role.STEWARD}

# Who works cases (calls, visits, records); stewards, other staff and the front desk only their own
# (SPEC §5 step 3 gives cases to the front desk too).
CASE_WORKER_ROLES = _SUPERVISORS | {
    Role.STEWARD,
    Role.OTHER_STAFF,
    Role.LEGAL,
    Role.TASK_FORCE,
    Role.CASHIER,
}
OWN_CASES_ONLY_ROLES = frozenset({Role.STEWARD, Role.OTHER_STAFF, Role.CASHIER})
# Company-wide roles that do not work cases: their holder's role wins over any project membership
# (core.scope.role_in), so a finance officer who is also listed as a steward cannot be given a case.
COMPANY_ROLES_NOT_WORKING_CASES = COMPANY_WIDE_ROLES - CASE_WORKER_ROLES
# Who assigns cases and moves them between stages.
CASE_SUPERVISOR_ROLES = _SUPERVISORS
# Who edits the customer segments (客户分群) and their strategies.
SEGMENT_EDITOR_ROLES = _SUPERVISORS
# Who may send a case to the legal stage (the company approves a lawsuit: SPEC §5 step 9).
LEGAL_APPROVER_ROLES = _MANAGERS
# Who sees the case list and the daily check (the legal department and task force read them too).
CASE_OVERSEER_ROLES = _SUPERVISORS | {Role.LEGAL, Role.TASK_FORCE}
# Who works recovery orders (清欠任务).
RECOVERY_WORKER_ROLES = _SUPERVISORS | {Role.TASK_FORCE}

# Who reads the reports of a project; stewards see only their own figures on the dashboard.
REPORT_ROLES = _SUPERVISORS | {Role.FINANCE}
OWN_FIGURES_ROLES = frozenset({Role.STEWARD})
DASHBOARD_ROLES = REPORT_ROLES | OWN_FIGURES_ROLES
# Who edits the collection plans (targets).
PLAN_EDITOR_ROLES = _MANAGERS

# Who imports bank statements and claims the lines (finance, and the project's managers).
BANK_FINANCE_ROLES = _SUPERVISORS | {Role.FINANCE}
# Who sees the unidentified-receipts queue (an owner at the window asks where their transfer went).
BANK_QUEUE_ROLES = BANK_FINANCE_ROLES | {Role.CASHIER}

# Who stops a household's owner-page link (业主自助缴费: forwarded, sold, at the owner's request):
# the staff who hand the links out and answer the owners.
OWNER_LINK_REVOKER_ROLES = _SUPERVISORS | {Role.STEWARD, Role.CASHIER}
# Who reads the invoice requests owners make on the owner page (marking them issued is
# INVOICE_ISSUER_ROLES).
OWNER_INVOICE_LIST_ROLES = INVOICE_ISSUER_ROLES | {Role.PROJECT_MANAGER}

# Who opens the 系统任务 page, runs a step of the schedule by hand and sees its warnings.
OPS_ROLES = frozenset({Role.COMPANY_ADMIN})
