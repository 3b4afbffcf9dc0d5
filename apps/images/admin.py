"""The image catalogue in the admin: curated images for everyone to read, credentials for their owners."""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from apps.images import pipeline, services
from apps.images.hooks import image_users
from apps.images.models import (
    DockerCredential,
    DockerImage,
    ImagePipelineStage,
    ImageVariant,
    PlatformImage,
    RegistryCredential,
)
from rangex.core.admin import ApplicationErrorAdminMixin, SecretFieldsAdminMixin, SecretKeepingForm
from rangex.core.errors import ApplicationError


class CatalogAdmin(ApplicationErrorAdminMixin, admin.ModelAdmin):
    """Catalogue rows that admins edit; every save and delete goes through the catalogue services."""

    def save_model(self, request, obj, form, change):
        services.catalog_entry_save(actor=request.user, entry=obj, changed=form.changed_data)

    def delete_model(self, request, obj):
        services.catalog_entry_delete(actor=request.user, entry=obj)


@admin.register(DockerImage)
class DockerImageAdmin(CatalogAdmin):
    list_display = [
        "__str__",
        "category",
        "image_size_mb",
        "short_digest",
        "pull_count",
        "last_pulled_at",
        "is_ready_image",
    ]
    list_filter = ["is_public", "is_verified", "is_ready_image", "category"]
    search_fields = ["name", "tag", "description", "ecr_image_digest"]
    readonly_fields = ["created_by", "pull_count", "last_pulled_at", "image_size_mb", "ecr_image_digest", "used_by"]

    @admin.display(description=_("Digest"), ordering="ecr_image_digest")
    def short_digest(self, obj):
        return obj.ecr_image_digest[:19]

    @admin.display(description=_("Used by"))
    def used_by(self, obj):
        users = image_users(refs=[obj.image_ref]).get(obj.image_ref, [])
        if not users:
            return gettext("No scenario version uses this image.")
        return format_html("<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((u,) for u in users)))


@admin.register(ImageVariant)
class ImageVariantAdmin(CatalogAdmin):
    list_display = ["display_name", "image_ref", "base_os", "variant_type", "is_active", "is_admin_approved"]
    list_filter = ["is_active", "is_admin_approved", "base_os", "variant_type"]
    search_fields = ["display_name", "image_ref", "description"]


@admin.register(PlatformImage)
class PlatformImageAdmin(CatalogAdmin):
    list_display = ["label", "image_ref", "resource_profile", "is_active"]
    list_filter = ["is_active", "resource_profile", "compatible_attacker", "compatible_internal"]
    search_fields = ["label", "image_ref"]


@admin.register(RegistryCredential)
class RegistryCredentialAdmin(ApplicationErrorAdminMixin, SecretFieldsAdminMixin, admin.ModelAdmin):
    form = SecretKeepingForm
    list_display = ["label", "registry_url", "status", "last_tested_at", "is_active", "created_by_user"]
    list_filter = ["status", "is_active"]
    search_fields = ["label", "registry_url"]
    fields = ["label", "registry_url", "username_enc", "password_or_token_enc", "is_active"]
    readonly_fields = ["status", "last_tested_at", "last_test_message", "last_used_at", "created_by_user"]
    actions = ["test_credentials"]

    def get_fields(self, request, obj=None):
        return self.fields + (self.readonly_fields if obj else [])

    def get_queryset(self, request):
        qs = super().get_queryset(request).select_related("created_by_user")
        return qs if request.user.is_platform_admin else qs.filter(created_by_user=request.user)

    def has_delete_permission(self, request, obj=None):
        # Machines keep pointing at their credential (PROTECT); deactivate instead.
        return request.user.is_platform_admin and super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        changes = {name: value for name, value in self.changed_values(obj, form).items() if name in self.fields}
        current = RegistryCredential.objects.get(pk=obj.pk) if change else None
        saved = services.registry_credential_save(actor=request.user, credential=current, changes=changes)
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        services.registry_credential_delete(actor=request.user, credential=obj)

    @admin.action(description=_("Test credential (sign in to the registry)"))
    def test_credentials(self, request, queryset):
        for credential in queryset:
            try:
                tested = services.registry_credential_test(credential=credential, actor=request.user)
            except ApplicationError as exc:
                messages.error(request, f"{credential}: {exc.message}")
                continue
            level = messages.SUCCESS if tested.status == RegistryCredential.Status.OK else messages.ERROR
            messages.add_message(request, level, f"{credential}: {tested.last_test_message}")


@admin.register(DockerCredential)
class DockerCredentialAdmin(ApplicationErrorAdminMixin, SecretFieldsAdminMixin, admin.ModelAdmin):
    form = SecretKeepingForm
    list_display = ["username", "registry_url", "user", "updated_at"]
    search_fields = ["username", "registry_url", "user__email"]
    fields = ["username", "registry_url", "password_encrypted"]

    def get_queryset(self, request):
        qs = super().get_queryset(request).select_related("user")
        return qs if request.user.is_platform_admin else qs.filter(user=request.user)

    def save_model(self, request, obj, form, change):
        changes = {name: value for name, value in self.changed_values(obj, form).items() if name in self.fields}
        current = DockerCredential.objects.get(pk=obj.pk) if change else None
        saved = services.docker_credential_save(actor=request.user, credential=current, changes=changes)
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        services.docker_credential_delete(actor=request.user, credential=obj)


@admin.register(ImagePipelineStage)
class ImagePipelineStageAdmin(ApplicationErrorAdminMixin, admin.ModelAdmin):
    """Images built from versions' sources: their stages, logs, digests; admins approve them here."""

    change_form_template = "admin/images/imagepipelinestage/change_form.html"
    list_display = ["__str__", "machine_name", "current_stage", "status", "approver_user", "created_at"]
    list_filter = ["status", "current_stage"]
    search_fields = ["image_tag", "machine_name", "ecr_image_digest"]
    list_select_related = ["approver_user", "creator_user"]
    actions = ["approve_images", "reject_images", "retry_images"]
    fieldsets = [
        (None, {"fields": ["image_name", "image_tag", "machine_name", "scenario_version_id", "creator_user"]}),
        (_("Progress"), {"fields": ["stages", "status", "error_message"]}),
        (_("Registries"), {"fields": ["staging_minio_path", "ecr_repository", "ecr_image_digest"]}),
        (_("Review"), {"fields": ["reviewer_user", "approver_user", "approved_at", "review_completed_at"]}),
        (_("Log"), {"fields": ["log_display"]}),
    ]

    def get_readonly_fields(self, request, obj=None):
        return [f for opts in (o for _, o in self.fieldsets) for f in opts["fields"]]

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs if request.user.is_platform_admin else qs.filter(creator_user=request.user)

    def has_add_permission(self, request):
        # Rows are made by the pipeline (a version's "Build images" action), never by hand.
        return False

    def has_change_permission(self, request, obj=None):
        # Every field is the pipeline's record: the page is for reading, deciding is its buttons.
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("Stages"))
    def stages(self, obj):
        steps = [
            (gettext("Built locally"), obj.local_built_at),
            (gettext("Pushed to staging"), obj.staging_uploaded_at),
            (gettext("In review"), obj.review_started_at),
            (gettext("Approved"), obj.approved_at),
            (gettext("Pushed to production"), obj.production_deployed_at),
        ]
        rows = [
            ("done" if when else "todo", label, timezone.localtime(when).strftime("%Y-%m-%d %H:%M:%S") if when else "—")
            for label, when in steps
        ]
        items = format_html_join("", '<li class="{}">{} <span class="small">{}</span></li>', rows)
        return format_html('<ol class="pipeline-stages">{}</ol>', items)

    @admin.display(description=_("Log"))
    def log_display(self, obj):
        return format_html('<pre class="pipeline-log">{}</pre>', obj.log or gettext("(nothing yet)"))

    def _each(self, request, queryset, service, done: str, **kwargs):
        for stage in queryset:
            try:
                service(stage=stage, actor=request.user, **kwargs)
            except ApplicationError as exc:
                messages.error(request, f"{stage}: {exc.message}")
            else:
                messages.success(request, f"{stage.local_ref}: {done}")

    def get_urls(self):
        decide = path(
            "<int:object_id>/decide/<str:step>/",
            self.admin_site.admin_view(require_POST(self.decide_view)),
            name="images_imagepipelinestage_decide",
        )
        return [decide, *super().get_urls()]

    def decide_view(self, request, object_id, step):
        """The change page's Approve, Reject and Retry buttons."""
        stage = get_object_or_404(self.get_queryset(request), pk=object_id)
        services_by_step = {
            "approve": (pipeline.image_pipeline_approve, gettext("approved; pushing to production."), {}),
            "reject": (
                pipeline.image_pipeline_reject,
                gettext("rejected."),
                {"reason": request.POST.get("reason", "")},
            ),
            "retry": (pipeline.image_pipeline_retry, gettext("started again."), {}),
        }
        if step not in services_by_step:
            raise Http404("No such step.")
        service, done, kwargs = services_by_step[step]
        self._each(request, [stage], service, done, **kwargs)
        return redirect(reverse("admin:images_imagepipelinestage_change", args=[stage.pk]))

    @admin.action(description=_("Approve selected images (then pushed to production)"))
    def approve_images(self, request, queryset):
        self._each(request, queryset, pipeline.image_pipeline_approve, gettext("approved; pushing to production."))

    @admin.action(description=_("Reject selected images"))
    def reject_images(self, request, queryset):
        reason = request.POST.get("reason") or gettext("Rejected in review.")
        self._each(request, queryset, pipeline.image_pipeline_reject, gettext("rejected."), reason=reason)

    @admin.action(description=_("Retry selected failed images"))
    def retry_images(self, request, queryset):
        self._each(request, queryset, pipeline.image_pipeline_retry, gettext("started again."))
