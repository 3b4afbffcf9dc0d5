from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EnvironmentsConfig(AppConfig):
    name = "apps.environments"
    label = "environments"
    verbose_name = _("Environments")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from apps.accounts import hooks as account_hooks
        from apps.environments import tasks  # noqa: F401 (registers the Celery tasks)
        from apps.environments.progress import learner_progress_for_versions
        from apps.environments.selectors import scenario_played_by, solved_scenario_slugs
        from apps.environments.services import env_sessions_release_for_user
        from apps.scenarios import hooks as scenario_hooks

        account_hooks.user_deleting.register(env_sessions_release_for_user)
        scenario_hooks.prerequisites_solved.register(solved_scenario_slugs)
        scenario_hooks.scenario_played.register(scenario_played_by)
        scenario_hooks.scenario_progress.register(learner_progress_for_versions)
