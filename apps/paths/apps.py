from django.apps import AppConfig


class PathsConfig(AppConfig):
    name = "apps.paths"
    label = "paths"
    default_auto_field = "django.db.models.BigAutoField"
