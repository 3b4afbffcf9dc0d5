"""Admin building blocks shared by every app."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import FieldDoesNotExist
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.text import capfirst, format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from rangex.core import system
from rangex.core.audit_actions import AuditAction
from rangex.core.crypto import EncryptedTextField
from rangex.core.errors import ApplicationError
from rangex.core.models import AuditLog, Job, SystemSetting, SystemSettings


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows that nobody edits or deletes in the admin, superusers included."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class SecretInput(forms.PasswordInput):
    def __init__(self, attrs=None):
        super().__init__(attrs={"autocomplete": "new-password", **(attrs or {})}, render_value=False)


class SecretKeepingForm(forms.ModelForm):
    """A form whose blank secret inputs keep the stored secret instead of erasing it."""

    def clean(self):
        data = super().clean()
        if self.instance.pk is None:
            return data
        for name in self.fields:
            try:
                model_field = self._meta.model._meta.get_field(name)
            except FieldDoesNotExist:
                continue
            if isinstance(model_field, EncryptedTextField) and not data.get(name):
                data[name] = getattr(self.instance, name)
        return data


CLEAR_PREFIX = "clear_"


def secret_clear_field(what, effect) -> forms.BooleanField:
    """Return the checkbox that empties a stored secret, which a blank password input cannot do."""
    return forms.BooleanField(
        required=False,
        label=format_lazy(_("Clear the stored {what}"), what=what),
        help_text=format_lazy(_("Tick and save to remove it: {effect}"), effect=effect),
    )


class SecretFieldsAdminMixin:
    """Encrypted columns are write-only password inputs; leaving one blank keeps the stored secret."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if isinstance(db_field, EncryptedTextField):
            return forms.CharField(
                label=capfirst(db_field.verbose_name),
                required=False,
                widget=SecretInput(),
                help_text=gettext("Stored encrypted. Leave empty to keep the current value."),
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def changed_values(self, obj, form) -> dict:
        """Return the form's changed values, minus secrets left blank; a ticked ``clear_<secret>`` empties it."""
        out = {}
        for name in form.changed_data:
            value = form.cleaned_data.get(name)
            if name.startswith(CLEAR_PREFIX):
                if value:
                    out[name.removeprefix(CLEAR_PREFIX)] = ""
                continue
            if name in out:
                continue
            try:
                field = obj._meta.get_field(name)
            except Exception:
                field = None
            if isinstance(field, EncryptedTextField) and not value:
                continue
            out[name] = value
        return out


class ApplicationErrorAdminMixin:
    """Turn an ApplicationError raised while saving or deleting into an error message; nothing is half-done.

    Deleting goes through ``delete_model`` (a service) one row at a time, bulk deletes included.
    """

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return redirect(request.get_full_path())

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return redirect(request.get_full_path())

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)

    def get_deleted_objects(self, objs, request):
        """List what a delete takes with it, but let the delete service judge it.

        The service decides who may delete and what keeps a row (refusing with a reason), so
        Django's per-model permission check on every cascaded row and its "protected" page would only
        get in the way of that one decision.
        """
        to_delete, model_count, _perms_needed, _protected = super().get_deleted_objects(objs, request)
        return to_delete, model_count, set(), []


# --- The kernel's tables ----------------------------------------------------------------------


class SystemSettingsForm(forms.ModelForm):
    clear_minio_access_key = secret_clear_field(_("MinIO access key"), _("the storage signs in without it."))
    clear_minio_secret_key = secret_clear_field(_("MinIO secret key"), _("the storage signs in without it."))
    clear_slack_webhook_url = secret_clear_field(_("Slack webhook"), _("alerts stop going to Slack."))

    class Meta:
        model = SystemSettings
        fields = ()  # The admin's fieldsets choose the fields.


@admin.register(SystemSettings)
class SystemSettingsAdmin(SecretFieldsAdminMixin, admin.ModelAdmin):
    form = SystemSettingsForm
    fieldsets = [
        (
            _("Maintenance"),
            {"fields": ["maintenance_mode", "maintenance_message", "budget_paused", "budget_override_month"]},
        ),
        (_("Users"), {"fields": ["allow_new_registrations", "max_total_users", "max_concurrent_users"]}),
        (
            _("Sessions"),
            {
                "fields": [
                    "max_sessions_per_user",
                    "max_sessions_per_hour",
                    "max_sessions_per_day",
                    "idle_timeout_minutes",
                    "max_session_duration_minutes",
                    "max_pause_minutes",
                    "max_total_containers",
                    "max_accessible_scenarios",
                    "allow_all_scenarios",
                ]
            },
        ),
        (_("Budget"), {"fields": ["budget_hard_cap_usd", "budget_alert_percentage", "auto_maintenance_on_budget_cap"]}),
        (
            _("Storage"),
            {
                "fields": [
                    "storage_driver",
                    "max_storage_per_user_bytes",
                    "max_total_storage_bytes",
                    "minio_endpoint",
                    "minio_port",
                    "minio_use_ssl",
                    "minio_access_key",
                    "clear_minio_access_key",
                    "minio_secret_key",
                    "clear_minio_secret_key",
                    "minio_bucket",
                ]
            },
        ),
        (
            _("AWS"),
            {
                "classes": ["collapse"],
                "fields": [
                    "aws_region",
                    "aws_ecs_cluster_name",
                    "aws_ecs_subnet_ids",
                    "aws_ecs_security_group_ids",
                    "aws_ecr_registry",
                    "aws_ecs_execution_role_arn",
                    "aws_ecs_files_bucket",
                    "aws_ecs_init_image",
                    "aws_ecs_gateway_source",
                    "aws_fargate_vcpu_hour_usd",
                    "aws_fargate_gb_hour_usd",
                ],
            },
        ),
        (
            _("Docker"),
            {
                # Not in the form: use_local_docker; the runtime is chosen by RANGEX_RUNTIME_BACKEND and
                # RANGEX_RUNTIMES (README, "Settings that are not in the form").
                "fields": [
                    "docker_max_containers",
                    "docker_max_cpus_per_container",
                    "docker_max_memory_mb_per_container",
                    "docker_test_timeout_minutes",
                    "publish_requires_test_run",
                    "docker_enable_pull_from_hub",
                ]
            },
        ),
        (
            _("Monitoring and alerts"),
            {
                # /metrics is configured by RANGEX_METRICS_ENABLED and RANGEX_METRICS_TOKEN (README, "Metrics"):
                # the seed's enable_prometheus_metrics column is kept but no longer consulted (issue 27).
                "fields": [
                    "enable_request_logging",
                    "log_retention_days",
                    "send_error_notifications",
                    "admin_emails",
                    "slack_webhook_url",
                    "clear_slack_webhook_url",
                ]
            },
        ),
    ]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        obj = system.get_settings()
        return redirect(reverse("admin:core_systemsettings_change", args=[obj.pk]))

    readonly_fields = ["budget_override_month"]

    def save_model(self, request, obj, form, change):
        changes = self.changed_values(obj, form)
        try:
            # The maintenance switches go through their services, which record the operator and
            # let an operator's resume win over the budget check.
            if changes.pop("budget_paused", None) is False:
                system.budget_pause_resume(actor=request.user)
            if "maintenance_mode" in changes:
                system.maintenance_set(
                    actor=request.user,
                    enabled=changes.pop("maintenance_mode"),
                    message=changes.pop("maintenance_message", None),
                )
            if changes:
                system.system_settings_update(actor=request.user, **changes)
        except ApplicationError as exc:
            messages.error(request, exc.message)


@admin.register(SystemSetting)
class SystemSettingAdmin(ApplicationErrorAdminMixin, admin.ModelAdmin):
    list_display = ["key", "value", "updated_at"]
    search_fields = ["key"]

    def save_model(self, request, obj, form, change):
        system.system_setting_set(actor=request.user, key=obj.key, value=obj.value)

    def delete_model(self, request, obj):
        system.system_setting_delete(actor=request.user, key=obj.key)


class AuditActionFilter(admin.SimpleListFilter):
    """Filter the log by action, offering every action of the enum by its label."""

    title = _("action")
    parameter_name = "action_type__exact"

    def lookups(self, request, model_admin):
        return AuditAction.choices

    def queryset(self, request, queryset):
        return queryset.filter(action_type=self.value()) if self.value() else queryset


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyAdmin):
    list_display = ["timestamp", "action", "actor", "target_type", "target_repr", "ip_address"]
    list_filter = [AuditActionFilter, "target_type"]
    search_fields = ["action_type", "target_id", "target_repr", "user__email", "ip_address"]
    list_select_related = ["user"]
    date_hierarchy = "timestamp"

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_platform_admin

    @admin.display(description=_("actor"))
    def actor(self, obj) -> str:
        """Return who made the change: the user, else the command or platform part the row names."""
        return str(obj.user) if obj.user_id else (obj.details or {}).get("actor", "-")

    @admin.display(description=_("action"), ordering="action_type")
    def action(self, obj) -> str:
        try:
            return f"{AuditAction(obj.action_type).label} ({obj.action_type})"
        except ValueError:
            return obj.action_type


@admin.register(Job)
class JobAdmin(ReadOnlyAdmin):
    list_display = ["type", "status", "progress", "attempts", "user", "created_at", "completed_at"]
    list_filter = ["type", "status"]
    search_fields = ["type", "id"]
    list_select_related = ["user"]
