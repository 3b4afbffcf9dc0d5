"""Admins define badges and their typed requirements here; saves go through the badge services."""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import admin
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.badges import services
from apps.badges.models import Badge, BadgeRequirement, UserBadge
from apps.scenarios.models import Difficulty
from apps.scenarios.pickers import ScenarioPickerField
from rangex.core.admin import ApplicationErrorAdminMixin, ReadOnlyAdmin
from rangex.core.errors import ValidationFailed


def _category_choices():
    from apps.scenarios.models import ScenarioVersion, VersionStatus

    categories = (
        ScenarioVersion.objects.filter(status=VersionStatus.PUBLISHED)
        .exclude(category="")
        .values_list("category", flat=True)
        .distinct()
        .order_by("category")
    )
    return [("", gettext("Any category")), *((c, c) for c in categories)]


def _event_choices():
    from apps.events.models import Event

    return [("", "---------"), *((str(e.pk), e.name) for e in Event.objects.order_by("-start_date", "name")[:500])]


class RequirementForm(forms.ModelForm):
    """One requirement; the page's script shows only the fields its type reads (``FIELDS_BY_TYPE``)."""

    scenario = ScenarioPickerField(
        required=False, label=_("Scenario"), help_text=_("Type a scenario's name; any version counts.")
    )
    category = forms.TypedChoiceField(required=False, choices=_category_choices, empty_value="")
    difficulty = forms.TypedChoiceField(
        required=False, empty_value="", choices=[("", _("Any difficulty")), *Difficulty.choices]
    )
    event_id = forms.TypedChoiceField(required=False, label=_("Event"), choices=_event_choices, empty_value=None,
                                      coerce=uuid.UUID)  # fmt: skip

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


class RequirementInline(admin.StackedInline):
    model = BadgeRequirement
    form = RequirementForm
    extra = 1

    class Media:
        js = ["js/admin_badge_requirements.js"]


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
        for requirement in [*formset.new_objects, *(obj for obj, _fields in formset.changed_objects)]:
            services.badge_requirement_save(requirement=requirement, actor=request.user)


@admin.register(UserBadge)
class UserBadgeAdmin(ReadOnlyAdmin):
    list_display = ["badge", "user", "earned_at"]
    list_filter = ["badge"]
    search_fields = ["user__email", "badge__name"]
    list_select_related = ["badge", "user"]
