from django.contrib import admin

from apps.ops import services
from apps.ops.models import (
    AlertLog,
    BudgetAlert,
    HealthCheck,
    InterfaceEndpoint,
    OrphanedTaskLog,
    UsageDaily,
)
from rangex.core.admin import ApplicationErrorAdminMixin, ReadOnlyAdmin

# The admin index shows the operations dashboard above the app list (platform admins only).
admin.site.index_template = "ops/admin_index.html"


class PlatformAdminOnly:
    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_platform_admin

    def has_module_permission(self, request):
        return self.has_view_permission(request)


@admin.register(UsageDaily)
class UsageDailyAdmin(PlatformAdminOnly, ReadOnlyAdmin):
    list_display = [
        "date",
        "env_hours_micro",
        "env_hours_small",
        "env_hours_medium",
        "env_hours_large",
        "total_estimated_cost_rm",
        "vcpu_cost_rm",
        "memory_cost_rm",
    ]
    date_hierarchy = "date"


@admin.register(OrphanedTaskLog)
class OrphanedTaskLogAdmin(PlatformAdminOnly, ReadOnlyAdmin):
    list_display = ["detected_at", "task_arn", "status", "running_minutes", "estimated_cost", "user", "scenario"]
    list_filter = ["status"]
    search_fields = ["task_arn", "user__email"]
    list_select_related = ["user", "scenario"]


@admin.register(HealthCheck)
class HealthCheckAdmin(PlatformAdminOnly, ReadOnlyAdmin):
    list_display = ["checked_at", "check_type", "service_name", "status", "message", "auto_healed", "heal_action"]
    list_filter = ["check_type", "status", "auto_healed"]


@admin.register(AlertLog)
class AlertLogAdmin(PlatformAdminOnly, ReadOnlyAdmin):
    list_display = ["created_at", "alert_type", "priority", "channel", "recipient", "subject", "status", "retry_count"]
    list_filter = ["alert_type", "priority", "channel", "status"]
    search_fields = ["subject", "recipient"]


@admin.register(BudgetAlert)
class BudgetAlertAdmin(ApplicationErrorAdminMixin, PlatformAdminOnly, admin.ModelAdmin):
    list_display = [
        "scenario",
        "alert_month",
        "budget_limit",
        "current_cost",
        "percentage_used",
        "forecast_end_of_month",
        "status",
        "auto_shutdown_enabled",
    ]
    list_filter = ["status", "alert_month", "auto_shutdown_enabled"]
    list_select_related = ["scenario"]
    autocomplete_fields = []
    fields = [
        "scenario",
        "alert_month",
        "budget_limit",
        "alert_percentage",
        "grace_period_hours",
        "auto_shutdown_enabled",
        "current_cost",
        "percentage_used",
        "forecast_end_of_month",
        "status",
        "grace_period_starts",
        "grace_period_ends",
        "shutdown_at",
        "admin_notified",
    ]
    readonly_fields = [
        "current_cost",
        "percentage_used",
        "forecast_end_of_month",
        "status",
        "grace_period_starts",
        "grace_period_ends",
        "shutdown_at",
        "admin_notified",
    ]

    def has_add_permission(self, request):
        return self.has_view_permission(request)

    def has_change_permission(self, request, obj=None):
        return self.has_view_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "scenario", "alert_month"] if obj else self.readonly_fields

    def save_model(self, request, obj, form, change):
        services.budget_alert_save(actor=request.user, budget=obj, changed=form.changed_data)


@admin.register(InterfaceEndpoint)
class InterfaceEndpointAdmin(ApplicationErrorAdminMixin, PlatformAdminOnly, admin.ModelAdmin):
    list_display = ["label", "type", "value", "updated_at"]
    search_fields = ["label", "value"]

    def has_add_permission(self, request):
        return self.has_view_permission(request)

    def has_change_permission(self, request, obj=None):
        return self.has_view_permission(request)

    def has_delete_permission(self, request, obj=None):
        return self.has_view_permission(request)

    def save_model(self, request, obj, form, change):
        services.interface_endpoint_save(actor=request.user, endpoint=obj)

    def delete_model(self, request, obj):
        services.interface_endpoint_delete(actor=request.user, endpoint=obj)
