from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "wuye.ledger"
    label = "ledger"
    verbose_name = "收款与账务"
