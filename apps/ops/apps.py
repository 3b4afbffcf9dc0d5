from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "apps.ops"
    label = "ops"
    verbose_name = "Operations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from celery.signals import task_failure

        from apps.environments import hooks as environment_hooks
        from apps.ops import tasks  # noqa: F401 (registers the Celery tasks)
        from apps.ops.alerts import task_failure_alert
        from apps.ops.costs import scenario_budget_start_check

        task_failure.connect(task_failure_alert, weak=False, dispatch_uid="ops-task-failure-alert")
        environment_hooks.session_start_check.register(scenario_budget_start_check)
