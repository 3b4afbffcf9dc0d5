from django.apps import AppConfig


class ImagesConfig(AppConfig):
    name = "apps.images"
    label = "images"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from apps.images import tasks  # noqa: F401 (registers the Celery tasks)
