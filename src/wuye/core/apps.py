from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "wuye.core"
    label = "core"
    verbose_name = "系统与权限"

    def ready(self) -> None:
        from axes.signals import user_locked_out
        from django.db.backends.signals import connection_created

        from wuye.core.lockout import on_user_locked_out
        from wuye.core.sorting import register_sqlite_function

        user_locked_out.connect(on_user_locked_out, dispatch_uid="wuye.core.lockout")
        connection_created.connect(register_sqlite_function, dispatch_uid="wuye.core.sorting")
