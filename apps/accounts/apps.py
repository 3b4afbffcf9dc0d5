from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    label = "accounts"
    verbose_name = _("Accounts")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.db.models.signals import post_migrate

        from apps.accounts import roles, schema  # noqa: F401 (registers the OpenAPI extension)

        post_migrate.connect(roles.sync_role_groups_after_migrate, dispatch_uid="rangex.sync_role_groups")
