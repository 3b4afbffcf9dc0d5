from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "apps.events"
    label = "events"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from apps.environments import hooks as environment_hooks
        from apps.events import tasks  # noqa: F401 (registers the Celery tasks)
        from apps.events.selectors import event_history_for_team, teammate_in_shared_lab
        from apps.events.services import team_has_event_results
        from apps.teams import hooks as team_hooks

        environment_hooks.session_access.register(teammate_in_shared_lab)
        team_hooks.team_page_context.register(lambda *, team: {"history": event_history_for_team(team=team)})
        team_hooks.team_deleting.register(team_has_event_results)
