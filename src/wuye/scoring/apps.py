from django.apps import AppConfig


class ScoringConfig(AppConfig):
    name = "wuye.scoring"
    label = "scoring"
    verbose_name = "催缴优先级模型"
