"""Admin for the asset library, its attachments to versions, and per-scenario limits and access grants.

Kept apart from ``admin.py`` (the version page): the version admin only lists ``LibraryAssetInline``
and hands its formset to ``save_library_formset``; the scenario admin lists the limit and grant inlines.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.scenarios import library, limits
from apps.scenarios.models import Asset, AssetScenarioVersion, Machine, ScenarioAccessGrant, ScenarioLimit
from rangex.core.admin import ApplicationErrorAdminMixin
from rangex.core.errors import ApplicationError


class AssetUploadForm(forms.ModelForm):
    upload = forms.FileField(label=_("File"), help_text=_("The name is taken from the file you choose."))
    tags_text = forms.CharField(
        required=False, label=_("Tags"), help_text=_("Comma-separated, for example: wordlist, web.")
    )

    class Meta:
        model = Asset
        fields = ["name", "description"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["name"].required = False
        self.fields["name"].help_text = gettext("Empty: the file name.")
        if not self.instance._state.adding:
            del self.fields["upload"]
            self.fields["tags_text"].initial = ", ".join(self.instance.tags or [])

    def clean_upload(self):
        upload = self.cleaned_data["upload"]
        try:
            library.asset_upload_check(owner_id=self.user.pk, name=upload.name, size=upload.size)
        except ApplicationError as exc:
            raise forms.ValidationError(exc.message) from None
        return upload


@admin.register(Asset)
class AssetAdmin(ApplicationErrorAdminMixin, admin.ModelAdmin):
    form = AssetUploadForm
    list_display = ["name", "file_name", "size_bytes", "tag_list", "asset_location", "created_by_user", "created_at"]
    list_filter = ["asset_location"]
    search_fields = ["name", "file_name", "description"]
    readonly_fields = ["file_name", "size_bytes", "type", "sha256", "asset_location", "download_link", "used_by"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(deleted_from_minio=False).select_related("created_by_user")

    def get_search_results(self, request, queryset, search_term):
        # ``tag:wordlist`` searches tags; other words search names and descriptions.
        if search_term.startswith("tag:"):
            return library.asset_search(tag=search_term[4:]), False
        return super().get_search_results(request, queryset, search_term)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)

        class WithUser(form):
            def __init__(self, *args, **kw):
                super().__init__(*args, user=request.user, **kw)

        return WithUser

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["upload", "name", "description", "tags_text"]
        return ["name", "description", "tags_text", *self.readonly_fields]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def has_change_permission(self, request, obj=None):
        owner = obj is None or obj.created_by_user_id == request.user.pk
        return super().has_change_permission(request, obj) and (request.user.is_platform_admin or owner)

    has_delete_permission = has_change_permission

    @admin.display(description=_("Tags"))
    def tag_list(self, obj):
        return ", ".join(obj.tags or [])

    @admin.display(description=_("File"))
    def download_link(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("scenarios:library-file", args=[obj.pk]), obj.file_name)

    @admin.display(description=_("Attached to"))
    def used_by(self, obj):
        links = obj.version_links.select_related("scenario_version__scenario")
        return ", ".join(f"{link.scenario_version} ({link.get_asset_type_display()})" for link in links) or "-"

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            library.asset_update(
                asset=obj,
                actor=request.user,
                name=data["name"],
                description=data["description"],
                tags=data["tags_text"],
            )
            return
        created = library.asset_upload(
            actor=request.user,
            upload=data["upload"],
            name=data["name"],
            description=data["description"],
            tags=data["tags_text"],
        )
        obj.pk = created.pk
        obj._state.adding = False

    def delete_model(self, request, obj):
        library.asset_delete(asset=obj, actor=request.user)


class LibraryAssetInline(admin.TabularInline):
    """Library assets attached to a version, with what they are for (on the version page)."""

    model = AssetScenarioVersion
    extra = 0
    fields = ["asset", "asset_type", "machine", "target_path", "permissions"]
    autocomplete_fields = ["asset"]
    verbose_name = _("library asset")
    verbose_name_plural = _("Library assets (uploaded once in the asset library, attached here)")

    def _editable(self, obj) -> bool:
        return obj is None or obj.is_editable

    def has_add_permission(self, request, obj=None):
        return self._editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._editable(obj) and super().has_delete_permission(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "machine":
            version_id = request.resolver_match.kwargs.get("object_id") if request.resolver_match else None
            kwargs["queryset"] = Machine.objects.filter(scenario_version_id=version_id)
        elif db_field.name == "asset":
            kwargs["queryset"] = Asset.objects.filter(deleted_from_minio=False)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


def save_library_formset(request, version, formset) -> None:
    """Save the library inline through the library services (attach, change, detach)."""
    instances = formset.save(commit=False)
    for link in formset.deleted_objects:
        library.asset_detach(link=link, actor=request.user)
    for link in instances:
        library.asset_attach(
            version=version,
            asset=link.asset,
            actor=request.user,
            asset_type=link.asset_type,
            machine=link.machine,
            target_path=link.target_path,
            permissions=link.permissions,
            link=link if link.pk else None,
        )


class ScenarioLimitInline(admin.StackedInline):
    model = ScenarioLimit
    can_delete = False
    max_num = 1
    fields = ["max_concurrent_players", "max_sessions_per_user_per_day", "max_duration_minutes"]
    verbose_name = verbose_name_plural = _(_("Limits (checked when a lab starts)"))

    def has_add_permission(self, request, obj=None):
        return request.user.is_platform_admin

    has_change_permission = has_add_permission


class ScenarioAccessGrantInline(admin.TabularInline):
    model = ScenarioAccessGrant
    extra = 0
    fields = ["user", "created_at"]
    readonly_fields = ["created_at"]
    raw_id_fields = ["user"]
    verbose_name = _("solver")
    verbose_name_plural = _("Solvers allowed to start it (used while 'allow all scenarios' is off)")

    def has_add_permission(self, request, obj=None):
        return request.user.is_platform_admin

    has_change_permission = has_delete_permission = has_add_permission


def save_scenario_formset(request, scenario, formset) -> None:
    instances = formset.save(commit=False)
    if formset.model is ScenarioLimit:
        for row in instances:
            limits.scenario_limit_set(
                scenario=scenario,
                actor=request.user,
                **{f: getattr(row, f) for f in ScenarioLimitInline.fields},
            )
        return
    for grant in formset.deleted_objects:
        limits.scenario_access_revoke(scenario=scenario, user=grant.user, actor=request.user)
    for grant in instances:
        limits.scenario_access_grant(scenario=scenario, user=grant.user, actor=request.user)
