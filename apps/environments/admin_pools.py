"""Warm pools in the admin: size, windows, and what each pool holds now."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.environments import services
from apps.environments.models import LIVE_PARK_STATUSES, DeploymentEnvironment, EnvironmentPool, ParkStatus, PoolWindow
from rangex.core.admin import ApplicationErrorAdminMixin
from rangex.core.errors import ValidationFailed


class PoolWindowFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        max_size = self.instance.max_size or 0
        for form in self.forms:
            data = getattr(form, "cleaned_data", None) or {}
            if not data or data.get("DELETE"):
                continue
            starts, ends, wanted = data.get("starts_at"), data.get("ends_at"), data.get("min_ready")
            if starts and ends and ends <= starts:
                form.add_error("ends_at", gettext("The window must end after it starts."))
            if wanted is not None and wanted > max_size:
                form.add_error(
                    "min_ready",
                    gettext("At most the pool's maximum size (%(max)s), or raise the maximum.") % {"max": max_size},
                )


class PoolWindowInline(admin.TabularInline):
    model = PoolWindow
    formset = PoolWindowFormSet
    fields = ["starts_at", "ends_at", "min_ready", "note"]
    extra = 0


class EnvironmentInline(admin.TabularInline):
    model = DeploymentEnvironment
    fk_name = "pool"
    fields = [
        "status",
        "scenario_version",
        "parked_at",
        "claimed_at",
        "claimed_session",
        "cost_accumulated_rm",
        "failure_reason",
    ]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = _("Environments in the pool now")

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).filter(status__in=LIVE_PARK_STATUSES).order_by("-created_at")


class EnvironmentPoolForm(forms.ModelForm):
    class Meta:
        model = EnvironmentPool
        fields = ["scenario", "is_enabled", "min_ready", "max_size", "park_minutes"]

    def clean(self):
        data = super().clean()
        scenario = data.get("scenario")
        if scenario is None or self.errors:
            return data
        try:
            services.pool_check(
                scenario=scenario, min_ready=data.get("min_ready") or 0, max_size=data.get("max_size") or 0
            )
        except ValidationFailed as exc:
            for field, messages in exc.fields.items():
                for message in messages:
                    self.add_error(field if field in self.fields else None, f"{exc.message} {message}")
        return data


@admin.register(EnvironmentPool)
class EnvironmentPoolAdmin(ApplicationErrorAdminMixin, admin.ModelAdmin):
    form = EnvironmentPoolForm
    list_display = ["scenario", "is_enabled", "min_ready", "max_size", "target_now", "parked", "launching"]
    list_filter = ["is_enabled"]
    search_fields = ["scenario__slug", "scenario_version__title"]
    autocomplete_fields = ["scenario"]
    readonly_fields = ["target_now", "parked", "launching"]
    inlines = [PoolWindowInline, EnvironmentInline]

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_platform_admin

    has_view_permission = has_add_permission = has_change_permission = has_delete_permission = (
        lambda self, request, obj=None: request.user.is_active and request.user.is_platform_admin
    )

    @admin.display(description=_("Target now"))
    def target_now(self, pool):
        return services.pool_target(pool, now=timezone.now()) if pool.pk else "-"

    def _count(self, pool, status):
        return pool.environments.filter(status=status).count() if pool.pk else 0

    @admin.display(description=_("Parked (ready)"))
    def parked(self, pool):
        return format_html("<strong>{}</strong>", self._count(pool, ParkStatus.PARKED))

    @admin.display(description=_("Launching"))
    def launching(self, pool):
        return self._count(pool, ParkStatus.LAUNCHING)

    def save_model(self, request, obj, form, change):
        services.pool_save(pool=obj, actor=request.user)

    def delete_model(self, request, obj):
        services.pool_delete(pool=obj, actor=request.user)

    def save_formset(self, request, form, formset, change):
        formset.save(commit=False)
        if formset.model is not PoolWindow:
            return  # the pool's environments are shown, never edited
        for window in formset.deleted_objects:
            services.pool_window_delete(window=window, actor=request.user)
        for window in [*formset.new_objects, *(obj for obj, _fields in formset.changed_objects)]:
            services.pool_window_save(window=window, actor=request.user)
