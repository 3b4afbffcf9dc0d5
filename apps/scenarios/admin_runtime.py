"""The scenario list's "run new labs on ..." actions: where a scenario's labs start (Docker, ECS, ...)."""

from __future__ import annotations

from django.utils.translation import gettext

from apps.scenarios.runtime_choice import scenario_runtime_set


class RuntimeChoiceAdminMixin:
    def get_actions(self, request):
        """Offer platform admins one "run labs on ..." action per configured runtime, and the default."""
        actions = super().get_actions(request)
        if not request.user.is_platform_admin:
            return actions
        from apps.runtime import configured_runtimes

        for key in ["", *configured_runtimes()]:
            name = f"run_on_{key or 'default'}"
            label = (
                gettext("Run new labs on runtime %(key)r") % {"key": key}
                if key
                else gettext("Run new labs on the platform default runtime")
            )
            actions[name] = (lambda admin_, req, qs, key=key: admin_._set_runtime(req, qs, key), name, label)
        return actions

    def _set_runtime(self, request, queryset, key: str) -> None:
        for scenario in queryset:
            scenario_runtime_set(scenario=scenario, key=key, actor=request.user)
        n = queryset.count()
        where = key or gettext("the default")
        message = gettext("%(n)d scenario(s) now start new labs on %(where)s.")
        self.message_user(request, message % {"n": n, "where": where})
