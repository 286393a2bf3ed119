from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "wuye.core"
    label = "core"
    verbose_name = "系统与权限"
