from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "wuye.ops"
    label = "ops"
    verbose_name = "系统任务"
