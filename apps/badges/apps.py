from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BadgesConfig(AppConfig):
    name = "apps.badges"
    label = "badges"
    verbose_name = _("Badges")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from apps.badges import awards, event_setup, tasks  # noqa: F401 (tasks registers the Celery tasks)
        from apps.environments import hooks as environment_hooks
        from apps.events import hooks as event_hooks

        # Registered after the paths app's receiver (INSTALLED_APPS order), so one evaluation after a
        # completion also sees the paths it finished.
        environment_hooks.session_completed.register(awards.badges_on_session_completed)
        event_hooks.first_blood.register(awards.badges_on_first_blood)
        event_hooks.event_finished.register(awards.badges_on_event_finished)
        event_hooks.standings_changed.register(awards.badges_on_standings_changed)
        event_hooks.event_badges_current.register(event_setup.event_badges_current)
        event_hooks.event_badges_save.register(event_setup.event_badges_save)
