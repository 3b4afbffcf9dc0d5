"""The events admin: everything an organiser sets up lives on the event's page.

Times (start, end, freeze, challenge releases) are entered and shown in the event's own time zone,
and the date shortcuts (Today, Now) fill them in that zone too. Team size, late registration,
invited teams (by name), divisions and the event's badges are fields of the same form. The
object tools lead to participants (disqualify, reinstate), announcements, suspected flag sharing,
printable results and the CSV (``admin_pages``).
"""

from __future__ import annotations

import zoneinfo

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import FilteredSelectMultiple
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.events import admin_pages, hooks, services
from apps.events.models import Event, EventDivision, EventParticipation, EventScenario
from apps.scenarios.models import ScenarioVersion, VersionStatus
from apps.teams.models import Team
from rangex.core.admin import ApplicationErrorAdminMixin, ReadOnlyAdmin

LOCAL_FIELDS = ("start_date", "end_date", "freeze_at")
ZONES = sorted(zoneinfo.available_timezones())


def _zone(name: str | None) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def show_local(form: forms.ModelForm, names, tz_name: str) -> None:
    """Show the instance's times as wall-clock times of ``tz_name`` (the event's zone)."""
    for name in names:
        if name in form.fields:
            value = getattr(form.instance, name, None)
            if form.instance.pk and value is not None:
                form.initial[name] = timezone.localtime(value, _zone(tz_name)).replace(tzinfo=None)


def read_local(data: dict, names, zone: zoneinfo.ZoneInfo) -> None:
    """Re-read the times the form parsed in the server's zone as wall-clock times of the event's ``zone``."""
    for name in names:
        value = data.get(name)
        if value is not None:
            data[name] = timezone.make_naive(value).replace(tzinfo=zone)


class EventForm(forms.ModelForm):
    """Show and read the start, end and freeze times in the event's time zone, not the server's."""

    timezone = forms.ChoiceField(
        label=_("Timezone"),
        choices=[(z, z) for z in ZONES],
        initial="UTC",
        help_text=_(
            "Every time of the event (start, end, freeze, challenge releases) is entered and shown in this "
            "zone; participants also see their own local time beside it."
        ),
    )
    invited_teams = forms.ModelMultipleChoiceField(
        queryset=Team.objects.order_by("name"),
        required=False,
        widget=FilteredSelectMultiple("teams", is_stacked=False),
        help_text=_("Team events: only these teams may register. Leave empty to let every team register."),
    )
    badge_first_blood = forms.BooleanField(
        required=False, label=_("First-blood badge"), help_text=_("A badge for whoever solves a question first.")
    )
    badge_top_n = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=100,
        label=_("Top-N badge"),
        help_text=_("A badge for the top N when the event ends (disqualified participants excluded); empty = none."),
    )
    badge_finisher = forms.BooleanField(
        required=False, label=_("Finisher badge"), help_text=_("A badge for whoever solves every challenge.")
    )

    class Meta:
        model = Event
        fields = [
            "name",
            "description",
            "cover_image",
            "cover_image_url",
            "is_public",
            "is_paused",
            "timezone",
            "start_date",
            "end_date",
            "freeze_at",
            "format",
            "max_participants",
            "max_team_size",
            "registration_required",
            "allow_late_registration",
            "environment_mode",
            "scoring_mode",
            "dynamic_initial",
            "dynamic_minimum",
            "dynamic_decay",
            "dynamic_retroactive",
            "first_blood_bonus",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        tz_name = self.instance.timezone if self.instance and self.instance.pk else "UTC"
        local_note = gettext("Today and Now fill in the event's time zone.")
        for name in LOCAL_FIELDS:
            if name in self.fields:
                self.fields[name].help_text = f"{self.fields[name].help_text} {local_note}".strip()
        show_local(self, LOCAL_FIELDS, tz_name)
        if self.instance.pk:
            self.initial["invited_teams"] = list(
                Team.objects.filter(pk__in=[str(t) for t in self.instance.participating_team_ids or []])
            )
            current = hooks.event_badges_current.first(event=self.instance) or {}
            self.initial["badge_first_blood"] = current.get("first_blood", False)
            self.initial["badge_top_n"] = current.get("top_n")
            self.initial["badge_finisher"] = current.get("finisher", False)

    def clean(self):
        data = super().clean()
        tz_name = data.get("timezone")
        if not tz_name:
            return data
        read_local(data, LOCAL_FIELDS, _zone(tz_name))
        for name in LOCAL_FIELDS:
            if name in data:
                setattr(self.instance, name, data[name])
        self.instance.participating_team_ids = [str(t.pk) for t in data.get("invited_teams") or []]
        return data

    @property
    def badge_choice(self) -> dict:
        return {
            "first_blood": bool(self.cleaned_data.get("badge_first_blood")),
            "top_n": self.cleaned_data.get("badge_top_n"),
            "finisher": bool(self.cleaned_data.get("badge_finisher")),
        }


class EventScenarioForm(forms.ModelForm):
    """A challenge row; its release time is in the event's time zone like the event's own times."""

    class Meta:
        model = EventScenario
        fields = ["sort_order", "scenario_version", "release_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        event = getattr(self.instance, "event", None) if self.instance.event_id else None
        show_local(self, ["release_at"], event.timezone if event else "UTC")

    def clean(self):
        data = super().clean()
        # The inline's event field holds the event being saved, with the zone just chosen on its form.
        event = data.get("event") or self.instance.event
        read_local(data, ["release_at"], _zone(event.timezone))
        self.instance.release_at = data.get("release_at")
        return data


class EventScenarioInline(admin.TabularInline):
    model = EventScenario
    form = EventScenarioForm
    extra = 1
    fields = ["sort_order", "scenario_version", "release_at"]
    ordering = ["sort_order"]
    verbose_name = _("challenge")
    verbose_name_plural = _("Challenges (a release time hides a challenge from players until then)")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "scenario_version":
            kwargs["queryset"] = ScenarioVersion.objects.filter(status=VersionStatus.PUBLISHED).select_related(
                "scenario"
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class EventDivisionInline(admin.TabularInline):
    model = EventDivision
    extra = 0
    fields = ["sort_order", "name"]
    ordering = ["sort_order"]
    verbose_name = _("division")
    verbose_name_plural = _("Divisions (brackets with a board each; players choose one when they register)")


@admin.register(Event)
class EventAdmin(ApplicationErrorAdminMixin, admin.ModelAdmin):
    form = EventForm
    inlines = [EventScenarioInline, EventDivisionInline]
    list_display = ["name", "format", "start_date", "end_date", "timezone", "scoring_mode", "is_public", "is_paused"]
    list_filter = ["format", "scoring_mode", "is_public", "is_paused"]
    search_fields = ["name"]
    readonly_fields = ["created_by_user"]
    actions = ["export_scoreboard_csv", "pause_events", "resume_events", "hide_events", "show_events"]
    fieldsets = [
        (None, {"fields": ["name", "description", "cover_image", "cover_image_url", "is_public", "is_paused"]}),
        (_("When"), {"fields": ["timezone", "start_date", "end_date", "freeze_at"]}),
        (
            _("Who"),
            {
                "fields": [
                    "format",
                    "max_participants",
                    "max_team_size",
                    "registration_required",
                    "allow_late_registration",
                    "invited_teams",
                    "environment_mode",
                ]
            },
        ),
        (
            _("Scoring"),
            {
                "fields": [
                    "scoring_mode",
                    "dynamic_initial",
                    "dynamic_minimum",
                    "dynamic_decay",
                    "dynamic_retroactive",
                    "first_blood_bonus",
                ]
            },
        ),
        (_("Badges"), {"fields": ["badge_first_blood", "badge_top_n", "badge_finisher"]}),
        (_("Created"), {"fields": ["created_by_user"]}),
    ]

    class Media:
        js = ["js/admin_event_times.js"]

    def save_model(self, request, obj, form, change):
        services.event_save(event=obj, actor=request.user, changed=sorted(form.changed_data))
        if hooks.event_badges_save.receivers:
            hooks.event_badges_save.send(event=obj, actor=request.user, **form.badge_choice)
        now = timezone.now()
        if obj.start_date <= now < obj.end_date and not obj.allow_late_registration and obj.registration_required:
            messages.warning(
                request,
                gettext(
                    "%(event)s has started and late registration is off: nobody can register any more. "
                    "Turn on late registration to let people join."
                )
                % {"event": obj.name},
            )

    def delete_model(self, request, obj):
        services.event_delete(event=obj, actor=request.user)

    def save_formset(self, request, form, formset, change):
        saved = formset.save(commit=False)
        if formset.model is EventScenario:
            services.event_challenges_save(
                event=form.instance, actor=request.user, saved=saved, removed=formset.deleted_objects
            )
        elif formset.model is EventDivision:
            services.event_divisions_save(
                event=form.instance, actor=request.user, saved=saved, removed=formset.deleted_objects
            )
        else:
            return super().save_formset(request, form, formset, change)
        return None

    def get_urls(self):
        return [*admin_pages.urls(self), *super().get_urls()]

    def _toggle(self, request, queryset, service, **kwargs):
        for event in queryset:
            service(event=event, actor=request.user, **kwargs)
        n = queryset.count()
        messages.success(request, gettext("%(n)d event(s) changed.") % {"n": n})

    @admin.action(description=_("Export the scoreboard as CSV"))
    def export_scoreboard_csv(self, request, queryset):
        return admin_pages.csv_response(list(queryset))

    @admin.action(description=_("Pause (answers, hints and new labs wait)"))
    def pause_events(self, request, queryset):
        self._toggle(request, queryset, services.event_set_paused, paused=True)

    @admin.action(description=_("Resume"))
    def resume_events(self, request, queryset):
        self._toggle(request, queryset, services.event_set_paused, paused=False)

    @admin.action(description=_("Hide (only admins see them)"))
    def hide_events(self, request, queryset):
        self._toggle(request, queryset, services.event_set_public, public=False)

    @admin.action(description=_("Show on the events page"))
    def show_events(self, request, queryset):
        self._toggle(request, queryset, services.event_set_public, public=True)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "event_links": [
                (gettext("Participants"), reverse("admin:events_participants", args=[object_id])),
                (gettext("Announcements"), reverse("admin:events_announcements", args=[object_id])),
                (gettext("Suspected flag sharing"), reverse("admin:events_suspicions", args=[object_id])),
                (gettext("Results (print)"), reverse("admin:events_results", args=[object_id])),
                (gettext("Scoreboard CSV"), reverse("admin:events_scoreboard_csv", args=[object_id])),
                (gettext("Pre-warm for start"), reverse("admin:events_prewarm", args=[object_id])),
            ],
        }
        return super().change_view(request, object_id, form_url, extra_context)


# A board row changes only through registration, solves and disqualification (ranks, audit, push).
@admin.register(EventParticipation)
class EventParticipationAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "event", "division", "rank", "total_points", "challenges_completed", "disqualified"]
    list_filter = ["disqualified", "participant_type"]
    search_fields = ["event__name", "team__name", "user__email"]
    readonly_fields = [f.name for f in EventParticipation._meta.fields]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("event", "user", "team", "division")
