from django.apps import AppConfig


class BadgesConfig(AppConfig):
    name = "apps.badges"
    label = "badges"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from apps.badges.services import badges_on_session_completed
        from apps.environments.services import COMPLETION_HOOKS

        if badges_on_session_completed not in COMPLETION_HOOKS:
            COMPLETION_HOOKS.append(badges_on_session_completed)
