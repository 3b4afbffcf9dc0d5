"""Admins define badges and their typed requirements here; saves go through the badge services."""

from __future__ import annotations

from django import forms
from django.contrib import admin

from apps.badges import services
from apps.badges.models import Badge, BadgeRequirement, UserBadge
from rangex.core.admin import ApplicationErrorAdminMixin, ReadOnlyAdmin
from rangex.core.errors import ValidationFailed


class RequirementForm(forms.ModelForm):
    class Meta:
        model = BadgeRequirement
        fields = ["requirement_type", "scenario", "count", "category", "difficulty", "min_score", "event_id",
                  "career_path"]  # fmt: skip

    def clean(self):
        cleaned = super().clean()
        if self.errors or cleaned.get("DELETE"):
            return cleaned
        candidate = BadgeRequirement(**{k: v for k, v in cleaned.items() if k in self.Meta.fields})
        try:
            services.badge_requirement_validate(candidate)
        except ValidationFailed as exc:
            raise forms.ValidationError(exc.message) from None
        return cleaned


class RequirementInline(admin.TabularInline):
    model = BadgeRequirement
    form = RequirementForm
    raw_id_fields = ["scenario", "career_path"]
    extra = 1


@admin.register(Badge)
class BadgeAdmin(ApplicationErrorAdminMixin, admin.ModelAdmin):
    list_display = ["name", "criteria", "created_at"]
    search_fields = ["name", "description", "criteria"]
    fields = ["name", "description", "criteria", "icon"]
    inlines = [RequirementInline]

    def save_model(self, request, obj, form, change):
        services.badge_save(badge=obj, actor=request.user)

    def delete_model(self, request, obj):
        services.badge_delete(badge=obj, actor=request.user)

    def save_formset(self, request, form, formset, change):
        formset.save(commit=False)
        for requirement in formset.deleted_objects:
            services.badge_requirement_delete(requirement=requirement, actor=request.user)
        for requirement in [*formset.new_objects, *(obj for obj, _ in formset.changed_objects)]:
            services.badge_requirement_save(requirement=requirement, actor=request.user)


@admin.register(UserBadge)
class UserBadgeAdmin(ReadOnlyAdmin):
    list_display = ["badge", "user", "earned_at"]
    list_filter = ["badge"]
    search_fields = ["user__email", "badge__name"]
    list_select_related = ["badge", "user"]
