from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "apps.ops"
    label = "ops"
    verbose_name = "Operations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from celery.signals import task_failure

        from apps.ops import signals  # noqa: F401
        from apps.ops.alerts import task_failure_alert

        task_failure.connect(task_failure_alert, weak=False, dispatch_uid="ops-task-failure-alert")
