"""The load test's WSGI application: wuye as served by ``scripts/run``, plus a trivial view at
``/bench/ping`` (no database, no session) — the yardstick of bench/load_busy_morning.py."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wuye.settings")

from django.conf import settings  # noqa: E402

settings.ROOT_URLCONF = "load_busy_morning_wsgi"

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()  # sets Django up before wuye.urls is imported

from django.http import HttpResponse  # noqa: E402
from django.urls import include, path  # noqa: E402


def ping(request):
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path("bench/ping", ping), path("", include("wuye.urls"))]
