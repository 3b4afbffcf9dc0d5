from django.contrib import admin, messages
from django.shortcuts import redirect
from django.urls import reverse

from apps.ops import services
from apps.ops.models import (
    AlertLog,
    AuditLog,
    BudgetAlert,
    HealthCheck,
    InterfaceEndpoint,
    Job,
    OrphanedTaskLog,
    SystemSetting,
    SystemSettings,
    UsageDaily,
)
from apps.ops.selectors import get_settings
from rangex.core.admin import ApplicationErrorAdminMixin, ReadOnlyAdmin, SecretFieldsAdminMixin
from rangex.core.errors import ApplicationError


@admin.register(SystemSettings)
class SystemSettingsAdmin(SecretFieldsAdminMixin, admin.ModelAdmin):
    fieldsets = [
        ("Maintenance", {"fields": ["maintenance_mode", "maintenance_message"]}),
        ("Users", {"fields": ["allow_new_registrations", "max_total_users", "max_concurrent_users"]}),
        (
            "Sessions",
            {
                "fields": [
                    "max_sessions_per_user",
                    "max_sessions_per_hour",
                    "max_sessions_per_day",
                    "idle_timeout_minutes",
                    "max_session_duration_minutes",
                    "max_total_containers",
                    "max_accessible_scenarios",
                    "allow_all_scenarios",
                ]
            },
        ),
        ("Budget", {"fields": ["budget_hard_cap_usd", "budget_alert_percentage", "auto_maintenance_on_budget_cap"]}),
        (
            "Storage",
            {
                "fields": [
                    "storage_driver",
                    "max_storage_per_user_bytes",
                    "max_total_storage_bytes",
                    "minio_endpoint",
                    "minio_port",
                    "minio_use_ssl",
                    "minio_access_key",
                    "minio_secret_key",
                    "minio_bucket",
                ]
            },
        ),
        (
            "AWS",
            {
                "classes": ["collapse"],
                "fields": [
                    "aws_region",
                    "aws_ecs_cluster_name",
                    "aws_ecs_subnet_ids",
                    "aws_ecs_security_group_ids",
                    "aws_ecr_registry",
                ],
            },
        ),
        (
            "Docker",
            {
                "fields": [
                    "use_local_docker",
                    "docker_max_containers",
                    "docker_max_cpus_per_container",
                    "docker_max_memory_mb_per_container",
                    "docker_test_timeout_minutes",
                    "docker_enable_pull_from_hub",
                ]
            },
        ),
        (
            "Monitoring and alerts",
            {
                "fields": [
                    "enable_prometheus_metrics",
                    "enable_request_logging",
                    "log_retention_days",
                    "send_error_notifications",
                    "admin_emails",
                    "slack_webhook_url",
                ]
            },
        ),
    ]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        obj = get_settings()
        return redirect(reverse("admin:ops_systemsettings_change", args=[obj.pk]))

    def save_model(self, request, obj, form, change):
        try:
            services.system_settings_update(actor=request.user, **self.changed_values(obj, form))
        except ApplicationError as exc:
            messages.error(request, exc.message)


@admin.register(SystemSetting)
class SystemSettingAdmin(admin.ModelAdmin):
    list_display = ["key", "value", "updated_at"]
    search_fields = ["key"]

    def save_model(self, request, obj, form, change):
        services.system_setting_set(actor=request.user, key=obj.key, value=obj.value)


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyAdmin):
    list_display = ["timestamp", "action_type", "user", "target_type", "target_repr", "ip_address"]
    list_filter = ["action_type", "target_type"]
    search_fields = ["action_type", "target_id", "target_repr", "user__email", "ip_address"]
    list_select_related = ["user"]
    date_hierarchy = "timestamp"

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_platform_admin


@admin.register(Job)
class JobAdmin(ReadOnlyAdmin):
    list_display = ["type", "status", "progress", "attempts", "user", "created_at", "completed_at"]
    list_filter = ["type", "status"]
    search_fields = ["type", "id"]
    list_select_related = ["user"]


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
