from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "wuye.messaging"
    label = "messaging"
    verbose_name = "话术与消息"
