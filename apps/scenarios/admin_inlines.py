"""The inlines of the version page: machines, assets and pivot points, editable only on a DRAFT.

Split from ``apps.scenarios.admin`` (which lists them in ``ScenarioVersionAdmin.inlines``) to keep each
module short; another inline of the version page can live here or beside it.
"""

from __future__ import annotations

from django.contrib import admin
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.images.models import ImageVariant, PlatformImage, RegistryCredential
from apps.scenarios.admin_forms import ExplainedJSONField, ScenarioAssetForm, ScenarioAssetFormSet
from apps.scenarios.models import Machine, NetworkPivotPoint, ScenarioAsset
from rangex.core.admin import SecretFieldsAdminMixin, SecretKeepingForm

# --- Inlines: the parts of a version, editable only while it is a DRAFT ----------------------------


class DraftOnlyInlineMixin:
    def _editable(self, request, obj) -> bool:
        return obj is None or obj.is_editable

    def has_add_permission(self, request, obj=None):
        return self._editable(request, obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._editable(request, obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._editable(request, obj) and super().has_delete_permission(request, obj)


MACHINE_LABELS = {
    "ssh_enabled": _("SSH"),
    "rdp_enabled": _("RDP"),
    "web_enabled": _("Web"),
    "image_ref": _("Image reference"),
    "image_source_type": _("Image source"),
    "ssh_username": _("SSH user name"),
    "ssh_password": _("SSH password"),
    "is_pivot_host": _("Pivot host"),
    "allow_solver_entry": _("Solvers may enter"),
    "network_group": _("Network"),
    "network_egress_policy": _("Outbound traffic"),
    "sort_order": _("Order"),
}


MACHINE_HELP = {
    "allow_solver_entry": _("Solvers get a terminal on this machine."),
    "is_pivot_host": _("Joins both networks of every pivot point that names its network."),
    "image_ref": _("For an image of your own: registry/name:tag, e.g. ghcr.io/you/web:1.0."),
}


class MachineInline(DraftOnlyInlineMixin, SecretFieldsAdminMixin, admin.StackedInline):
    model = Machine
    form = SecretKeepingForm
    extra = 0
    formfield_overrides = {models.JSONField: {"form_class": ExplainedJSONField}}
    fieldsets = [
        (None, {"fields": [("name", "role", "sort_order"), "network_group", "allow_solver_entry", "is_pivot_host"]}),
        (
            _("Image"),
            {"fields": ["image_source_type", "image_variant", "platform_image", "image_ref", "registry_credential"]},
        ),
        (
            _("Resources and access"),
            {
                "fields": [
                    ("resource_profile", "network_egress_policy"),
                    ("ssh_enabled", "rdp_enabled", "web_enabled"),
                    ("ssh_username", "ssh_password"),
                    "exposed_ports",
                ]
            },
        ),
        (
            _("Advanced"),
            {
                "classes": ["collapse"],
                "fields": [
                    "environment_vars",
                    "entrypoints",
                    "ready_check",
                    ("run_as_user", "capabilities"),
                    "read_only_root",
                ],
            },
        ),
        (_("Built image"), {"fields": ["build_context", "tools"], "classes": ["collapse"]}),
    ]
    filter_horizontal = ["tools"]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if field is not None and db_field.name in MACHINE_LABELS:
            field.label = MACHINE_LABELS[db_field.name]
        if field is not None and db_field.name in MACHINE_HELP:
            field.help_text = MACHINE_HELP[db_field.name]
        if field is not None and isinstance(db_field, models.JSONField):
            field.widget.attrs.update({"rows": 2, "cols": 60})
        if field is not None and db_field.name == "network_group":
            # Offer the version's networks (typed on this page or saved) while still taking a new name.
            field.widget.attrs.update({"list": "rx-network-groups", "autocomplete": "off"})
            field.help_text = gettext("Pick one of this version's networks or type a new name.")
        return field

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "image_variant":
            kwargs["queryset"] = ImageVariant.objects.filter(is_active=True)
        elif db_field.name == "platform_image":
            kwargs["queryset"] = PlatformImage.objects.filter(is_active=True)
        elif db_field.name == "registry_credential":
            qs = RegistryCredential.objects.filter(is_active=True)
            kwargs["queryset"] = qs if request.user.is_platform_admin else qs.filter(created_by_user=request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ScenarioAssetInline(DraftOnlyInlineMixin, admin.TabularInline):
    model = ScenarioAsset
    form = ScenarioAssetForm
    formset = ScenarioAssetFormSet
    extra = 0
    fields = ["file", "file_name", "asset_type", "machine_name", "target_path", "permissions", "description"]

    def get_formset(self, request, obj=None, **kwargs):
        # The form may use only the uploads this user kept from a failed save.
        kwargs["form"] = type("ScenarioAssetForm", (self.form,), {"user_id": request.user.pk})
        return super().get_formset(request, obj, **kwargs)


class PivotPointInline(DraftOnlyInlineMixin, admin.TabularInline):
    model = NetworkPivotPoint
    extra = 0
    fields = ["source_network_group", "target_network_group", "description"]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if field is not None and db_field.name.endswith("_network_group"):
            field.widget.attrs.update({"list": "rx-network-groups", "autocomplete": "off"})
            field.label = gettext("From network") if db_field.name.startswith("source") else gettext("To network")
        return field
