from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScenariosConfig(AppConfig):
    name = "apps.scenarios"
    label = "scenarios"
    verbose_name = _("Scenarios")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from apps.images.hooks import image_users_hook
        from apps.scenarios import tasks  # noqa: F401 (registers the Celery tasks)
        from apps.scenarios.image_builds import versions_using_images

        image_users_hook.register(versions_using_images)
