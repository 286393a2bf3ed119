from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "wuye.registry"
    label = "registry"
    verbose_name = "房产与客户档案"
