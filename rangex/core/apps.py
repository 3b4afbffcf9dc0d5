from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The kernel: system settings, the audit trail, jobs, notifications and encryption."""

    name = "rangex.core"
    label = "core"
    verbose_name = "Platform"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from rangex.core import checks, signals, tasks  # noqa: F401 (system checks, receivers and Celery tasks)
