"""The image catalogue in the admin: curated images for everyone to read, credentials for their owners."""

from __future__ import annotations

from django.contrib import admin, messages

from apps.images import services
from apps.images.models import DockerCredential, DockerImage, ImageVariant, PlatformImage, RegistryCredential
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
    list_display = ["__str__", "category", "is_public", "is_verified", "is_ready_image", "pull_count"]
    list_filter = ["is_public", "is_verified", "is_ready_image", "category"]
    search_fields = ["name", "tag", "description"]
    readonly_fields = ["created_by", "pull_count", "last_pulled_at"]


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

    @admin.action(description="Test credential (sign in to the registry)")
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
