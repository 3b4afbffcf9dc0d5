"""Admins see every session, can stop one, and review suspected flag sharing."""

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.environments import selectors, services
from apps.environments.models import (
    EnvironmentMachine,
    EnvironmentSession,
    FlagShareSuspicion,
    GuiSession,
    SessionNetworkTopology,
)
from rangex.core.admin import ReadOnlyAdmin
from rangex.core.errors import ApplicationError


class MachineInline(admin.TabularInline):
    model = EnvironmentMachine
    fields = ["machine_name", "role", "status", "private_ip", "task_arn", "allow_solver_entry"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class TopologyInline(admin.TabularInline):
    model = SessionNetworkTopology
    fields = ["machine_name", "machine_role", "network_group", "private_ip", "status"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class GuiSessionInline(admin.TabularInline):
    """Every desktop connection of the session: who, when, how long, view-only or not."""

    model = GuiSession
    fk_name = "environment_session"
    fields = ["machine_name", "user", "view_only", "status", "started_at", "stopped_at", "length", "error_message"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name = _("desktop connection")

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=_("Duration"))
    def length(self, obj):
        duration = obj.duration
        return str(duration).split(".")[0] if duration is not None else gettext("open")


@admin.register(EnvironmentSession)
class EnvironmentSessionAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "user",
        "scenario_version",
        "status",
        "score",
        "started_at",
        "expires_at",
        "cost_accumulated_rm",
        "runtime",
        "is_test",
    ]
    list_filter = ["status", "is_test", "runtime_backend"]
    search_fields = ["user__email", "scenario_version__title", "id"]
    list_select_related = ["user", "scenario_version"]
    date_hierarchy = "created_at"
    exclude = ["gateway_session_token"]
    readonly_fields = ["runtime", "desktops"]
    inlines = [MachineInline, TopologyInline, GuiSessionInline]
    actions = ["stop_sessions"]

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_platform_admin

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_platform_admin

    @admin.display(description=_("Runtime"))
    def runtime(self, obj):
        info = selectors.env_session_runtime_info(session=obj)
        if info["configured"]:
            return info["key"]
        return gettext("%(key)s: not configured here") % {"key": info["key"] or gettext("(none)")}

    @admin.display(description=_("Desktops"))
    def desktops(self, obj):
        """Links to watch each desktop of a running session view-only (recorded in the audit log)."""
        if obj is None or obj.status != "running":
            return "-"
        names = selectors.env_session_desktops(session=obj, user=None)
        if not names:
            return "-"
        links = ((reverse("environments:desktop_watch", args=[obj.pk, name]), name) for name in names)
        label = gettext("Watch %(name)s (view-only)")
        links = ((url, label % {"name": name}) for url, name in links)
        return format_html_join(" ", '<a class="button" href="{}">{}</a>', links) or format_html("")

    @admin.action(description=_("Stop the selected sessions"))
    def stop_sessions(self, request, queryset):
        stopped = 0
        for session in queryset:
            info = selectors.env_session_runtime_info(session=session)
            try:
                services.env_session_stop(session=session, actor=request.user, reason="Stopped by an admin")
                stopped += 1
            except ApplicationError as exc:
                messages.warning(request, f"{session}: {exc.message}")
                continue
            if not info["configured"]:
                messages.warning(
                    request,
                    gettext(
                        "%(session)s: its runtime %(key)r is no longer configured, so the session is ended "
                        "without removing anything it may still have on that backend."
                    )
                    % {"session": session, "key": info["key"]},
                )
        messages.success(request, gettext("Stopping %(n)d session(s).") % {"n": stopped})


@admin.register(FlagShareSuspicion)
class FlagShareSuspicionAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "session", "owner_session", "question_id"]
    list_select_related = ["session__user", "owner_session__user"]
    search_fields = ["session__user__email", "owner_session__user__email"]

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_platform_admin

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_platform_admin


from apps.environments import admin_pools  # noqa: E402,F401 (registers the warm pools' admin)
