from django.apps import AppConfig
from django.conf import settings


class OpsConfig(AppConfig):
    name = "wuye.ops"
    label = "ops"
    verbose_name = "系统任务"

    def ready(self):
        if getattr(settings, "WUYE_METRICS", False):
            from wuye.ops import metrics

            metrics.install()
