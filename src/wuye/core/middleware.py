from django.utils.functional import SimpleLazyObject

from wuye.core.scope import projects_for

SESSION_KEY = "wuye_project_id"


def _current_project(request):
    if not request.user.is_authenticated:
        return None
    projects = projects_for(request.user)
    wanted = request.session.get(SESSION_KEY)
    project = projects.filter(pk=wanted).first() if wanted else None
    return project or projects.order_by("id").first()


class CurrentProjectMiddleware:
    """Puts the project chosen in the project switcher on ``request.project`` (always one in scope)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.project = SimpleLazyObject(lambda: _current_project(request))
        return self.get_response(request)
