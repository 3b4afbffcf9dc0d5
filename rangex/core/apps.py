from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    """The kernel: system settings, the audit trail, jobs, notifications and encryption."""

    name = "rangex.core"
    label = "core"
    verbose_name = _("Platform")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from celery.signals import before_task_publish, task_postrun, task_prerun

        from rangex.core import checks, signals, tasks  # noqa: F401 (system checks, receivers and Celery tasks)
        from rangex.core.logging import install_request_id_record_factory
        from rangex.core.request_ids import task_publish_request_id, task_request_id_end, task_request_id_start

        install_request_id_record_factory()
        before_task_publish.connect(task_publish_request_id, weak=False, dispatch_uid="core-request-id-publish")
        task_prerun.connect(task_request_id_start, weak=False, dispatch_uid="core-request-id-start")
        task_postrun.connect(task_request_id_end, weak=False, dispatch_uid="core-request-id-end")
