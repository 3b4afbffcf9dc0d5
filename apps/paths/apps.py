from django.apps import AppConfig


class PathsConfig(AppConfig):
    name = "apps.paths"
    label = "paths"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from apps.environments.services import COMPLETION_HOOKS
        from apps.paths.services import paths_on_session_completed

        if paths_on_session_completed not in COMPLETION_HOOKS:
            COMPLETION_HOOKS.append(paths_on_session_completed)
