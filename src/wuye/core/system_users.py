"""The users that work with no one at the keyboard: a scheduled bank import, online payments. Their
entries carry a user like anyone's (the audit trail, 日结, receipts), so each is a real user of the
company with finance's role in the project — and no password: nobody logs in as it."""

from __future__ import annotations

from wuye.core.audit import audit_record
from wuye.core.models import Membership, Project, User
from wuye.core.roles import Role
from wuye.core.scope import role_in


def system_user_for(project: Project, *, username: str, display_name: str) -> User:
    """The company's user ``username``, finance in ``project``, created (and audited) the first time."""
    user, created = User.objects.get_or_create(
        username=username,
        defaults={"display_name": display_name, "company_id": project.company_id},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
        audit_record(user=None, action="系统用户新增", obj=user, project=project)
    if role_in(user, project.pk) is None:
        Membership.objects.get_or_create(
            user=user, project=project, defaults={"role": Role.FINANCE}
        )
        audit_record(
            user=None, action="成员新增", obj=user, project=project, changes={"role": Role.FINANCE}
        )
        user = User.objects.get(pk=user.pk)  # without the role cache read before the membership
    return user
