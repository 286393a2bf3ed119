from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "wuye.payments"
    label = "payments"
    verbose_name = "线上缴费"
