from wuye.core.roles import AUDIT_ROLES
from wuye.core.scope import projects_for, role_in


def scope(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    project = request.project
    role = role_in(user, project) if project else None
    return {
        "scope_projects": projects_for(user).only("id", "name"),
        "current_project": project if project else None,
        "current_role": role,
        "can_see_audit": role in AUDIT_ROLES,
    }
