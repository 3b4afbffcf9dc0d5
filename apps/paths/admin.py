"""Admins curate career paths (and may moderate playlists) here; every change goes through the services."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from apps.paths import services
from apps.paths.models import CareerPath, CareerPathItem, Playlist, PlaylistItem
from apps.paths.prerequisites import career_path_item_requires_set
from apps.scenarios.pickers import ScenarioPickerField
from rangex.core.admin import ApplicationErrorAdminMixin


class ItemForm(forms.ModelForm):
    scenario_version = ScenarioPickerField(
        label=_("Scenario"), help_text=_("Type a scenario's name; any version counts.")
    )
    sort_order = forms.IntegerField(
        min_value=0,
        required=False,
        label=_("Order"),
        help_text=_("Left empty: after the others. Drag rows to reorder."),
        widget=forms.NumberInput(attrs={"style": "width: 5em"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance.pk:
            self.initial["sort_order"] = None

    def clean_sort_order(self):
        value = self.cleaned_data.get("sort_order")
        # A new row without an order goes last (renumbering then closes the gap), not first.
        return value if value else 1_000_000


class ItemInline(admin.TabularInline):
    form = ItemForm
    fields = ["sort_order", "scenario_version"]
    extra = 1
    ordering = ["sort_order", "id"]
    # Rows can be dragged (or moved with their arrow buttons); the script renumbers the Order fields.
    classes = ["rx-sortable"]

    class Media:
        js = ["js/admin_sortable_inline.js"]


class CareerPathItemInline(ItemInline):
    model = CareerPathItem
    fields = ["sort_order", "scenario_version", "requires"]

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "requires":
            # Only the items of the path being edited may be required.
            path_id = request.resolver_match.kwargs.get("object_id") if request.resolver_match else None
            kwargs["queryset"] = CareerPathItem.objects.filter(career_path_id=path_id).select_related(
                "scenario_version"
            )
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class PlaylistItemInline(ItemInline):
    model = PlaylistItem


class CollectionAdmin(ApplicationErrorAdminMixin, admin.ModelAdmin):
    list_display = ["title", "is_public", "owner_user", "updated_at"]
    list_filter = ["is_public"]
    search_fields = ["title", "description"]
    fields = ["title", "description", "is_public", "cover_image"]

    def save_model(self, request, obj, form, change):
        # The form has applied its values to ``obj`` (file fields included); pass the changed ones on.
        data = {name: getattr(obj, name) for name in form.changed_data if name in services.EDITABLE_FIELDS}
        # Visibility last: a path goes public only once its items are saved and checked (save_related).
        obj._public_after_items = data.pop("is_public", obj.is_public)
        if change:
            services.collection_update(container=obj, actor=request.user, **data)
        else:
            created = self._create(request, data)
            obj.pk = created.pk
            obj._state.adding = False

    def delete_model(self, request, obj):
        services.collection_delete(container=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for container in queryset:
            services.collection_delete(container=container, actor=request.user)

    def save_formset(self, request, form, formset, change):
        container = form.instance
        formset.save(commit=False)
        for item in formset.deleted_objects:
            services.collection_item_remove(item=item, actor=request.user)
        for item in formset.new_objects:
            services.collection_item_save(item=item, actor=request.user)
        for item, changed_fields in formset.changed_objects:
            services.collection_item_save(
                item=item, actor=request.user, version_changed="scenario_version" in changed_fields
            )
        services.collection_items_renumber(container=container)
        for item_form in formset.forms:
            if (
                "requires" in item_form.cleaned_data
                and item_form.instance.pk
                and not item_form.cleaned_data.get("DELETE")
            ):
                career_path_item_requires_set(
                    item=item_form.instance, requires=item_form.cleaned_data["requires"], actor=request.user
                )

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        container = form.instance
        public = getattr(container, "_public_after_items", container.is_public)
        container = type(container).objects.get(pk=container.pk)
        if public != container.is_public:
            services.collection_update(container=container, actor=request.user, is_public=public)


@admin.register(CareerPath)
class CareerPathAdmin(CollectionAdmin):
    inlines = [CareerPathItemInline]

    def _create(self, request, data):
        return services.career_path_create(actor=request.user, **data)


@admin.register(Playlist)
class PlaylistAdmin(CollectionAdmin):
    inlines = [PlaylistItemInline]

    def _create(self, request, data):
        data.pop("cover_image", None)
        return services.playlist_create(owner=request.user, **data)
