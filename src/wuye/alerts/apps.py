from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "wuye.alerts"
    label = "alerts"
    verbose_name = "欠费预警"
