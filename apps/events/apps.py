from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "apps.events"
    label = "events"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from apps.environments.selectors import ACCESS_HOOKS
        from apps.events.selectors import teammate_in_shared_lab

        ACCESS_HOOKS.append(teammate_in_shared_lab)
