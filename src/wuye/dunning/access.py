"""Who may do what in the dunning workflow, in one place for services, selectors and pages."""

from __future__ import annotations

from wuye.core.models import User
from wuye.core.scope import can_see_phones

# The grants of case work are defined in core.roles (one definition per grant).


def sees_case_phones(user: User, case) -> bool:
    """Full phone numbers of a case's household: roles whose work is contacting owners, and whoever
    holds the open case — a security guard or a cashier given a case can call that household (and
    only that one: every other page keeps their numbers masked)."""
    if can_see_phones(user, case.project_id):
        return True
    return case.state == "open" and case.assignee_id is not None and case.assignee_id == user.pk
