from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "wuye.billing"
    label = "billing"
    verbose_name = "收费与账单"
