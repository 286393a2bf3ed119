from django.apps import AppConfig


class CreditConfig(AppConfig):
    name = "wuye.credit"
    label = "credit"
    verbose_name = "信用档案与个性化催缴"
