from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PathsConfig(AppConfig):
    name = "apps.paths"
    label = "paths"
    verbose_name = _("Paths")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from apps.environments import hooks as environment_hooks
        from apps.paths.selectors import paths_next_steps
        from apps.paths.services import paths_on_session_completed

        environment_hooks.session_completed.register(paths_on_session_completed)
        environment_hooks.session_next_steps.register(paths_next_steps)
