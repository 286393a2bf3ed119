from django.apps import AppConfig


class DunningConfig(AppConfig):
    name = "wuye.dunning"
    label = "dunning"
    verbose_name = "催缴"
