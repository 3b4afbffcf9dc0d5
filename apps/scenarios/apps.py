from django.apps import AppConfig


class ScenariosConfig(AppConfig):
    name = "apps.scenarios"
    label = "scenarios"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from apps.scenarios import tasks  # noqa: F401 (registers the Celery tasks)
