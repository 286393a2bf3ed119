from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from wuye.api.urls import api
from wuye.navigation import start
from wuye.ops.health import health
from wuye.registry.views import home

admin.site.site_header = "wuye 物业收费与催缴 · 系统配置"
admin.site.site_title = "wuye 配置"

handler400 = "wuye.core.views.bad_request"
handler403 = "wuye.core.views.permission_denied"
handler404 = "wuye.core.views.page_not_found"
handler500 = "wuye.core.views.server_error"

urlpatterns = [
    path("", start, name="home"),  # a role's start page (stewards: 今日催缴), else the overview
    path("overview/", home, name="overview"),  # the project overview: registry's, above core
    path("", include("wuye.core.urls")),
    path("", include("wuye.registry.urls")),
    path("billing/", include("wuye.billing.urls")),
    path("ledger/", include("wuye.ledger.urls")),
    path("dunning/", include("wuye.dunning.urls")),
    path("messaging/", include("wuye.messaging.urls")),
    path("credit/", include("wuye.credit.urls")),
    path("scoring/", include("wuye.scoring.urls")),
    path("alerts/", include("wuye.alerts.urls")),
    path("banking/", include("wuye.banking.urls")),
    path("payments/", include("wuye.payments.urls")),
    path("reports/", include("wuye.reports.urls")),
    path("ops/", include("wuye.ops.urls")),
    path("health/", health, name="health"),
    path("o/", include("wuye.owner.urls")),  # the owner page (no staff login) and its staff side
    path("admin/", admin.site.urls),
    path("api/", api.urls),
]
if settings.WUYE_METRICS:  # Prometheus metrics at /metrics (docs/operations/monitoring.md)
    from wuye.ops.metrics import metrics_view

    urlpatterns.append(path("metrics", metrics_view, name="metrics"))
