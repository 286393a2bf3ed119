from django.apps import AppConfig


class OwnerConfig(AppConfig):
    name = "wuye.owner"
    label = "owner"
    verbose_name = "业主自助缴费"
