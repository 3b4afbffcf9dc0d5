from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ImagesConfig(AppConfig):
    name = "apps.images"
    label = "images"
    verbose_name = _("Images")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from apps.images import tasks  # noqa: F401 (registers the Celery tasks)
