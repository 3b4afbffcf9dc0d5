from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpsConfig(AppConfig):
    name = "apps.ops"
    label = "ops"
    verbose_name = _("Operations")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from celery.signals import task_failure, worker_ready

        from apps.environments import hooks as environment_hooks
        from apps.ops import tasks  # noqa: F401 (registers the Celery tasks)
        from apps.ops.alerts import task_failure_alert
        from apps.ops.costs import pool_budget, scenario_budget_start_check
        from apps.ops.liveness import worker_ready as liveness_worker_ready

        task_failure.connect(task_failure_alert, weak=False, dispatch_uid="ops-task-failure-alert")
        worker_ready.connect(liveness_worker_ready, weak=False, dispatch_uid="ops-worker-heartbeat")
        environment_hooks.session_start_check.register(scenario_budget_start_check)
        environment_hooks.pool_budget.register(pool_budget)
