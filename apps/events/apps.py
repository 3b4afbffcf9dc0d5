from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EventsConfig(AppConfig):
    name = "apps.events"
    label = "events"
    verbose_name = _("Events")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from apps.environments import hooks as environment_hooks
        from apps.events import tasks  # noqa: F401 (registers the Celery tasks)
        from apps.events.selectors import (
            event_history_for_team,
            organiser_watches_lab,
            team_points_hidden,
            teammate_in_shared_lab,
        )
        from apps.events.services import (
            event_lab_answer,
            event_lab_answer_accepted,
            team_has_event_results,
            team_member_adding_check,
        )
        from apps.teams import hooks as team_hooks

        environment_hooks.session_access.register(teammate_in_shared_lab)
        environment_hooks.session_watch.register(organiser_watches_lab)
        environment_hooks.session_answer.register(event_lab_answer)
        environment_hooks.answer_accepted.register(event_lab_answer_accepted)
        team_hooks.team_page_context.register(lambda *, team: {"history": event_history_for_team(team=team)})
        team_hooks.team_deleting.register(team_has_event_results)
        team_hooks.team_member_adding.register(team_member_adding_check)
        team_hooks.team_points_hidden.register(team_points_hidden)
