"""The events admin: create events (times in the event's own time zone), order their challenges,
see suspected flag sharing, disqualify, and export the scoreboard as CSV."""

from __future__ import annotations

import csv
import zoneinfo

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from apps.events import selectors, services
from apps.events.models import Event, EventParticipation, EventScenario
from apps.scenarios.models import ScenarioVersion, VersionStatus
from rangex.core.admin import ApplicationErrorAdminMixin, ReadOnlyAdmin
from rangex.core.errors import ApplicationError
from rangex.core.selectors import get_one

LOCAL_FIELDS = ("start_date", "end_date", "freeze_at")


class EventForm(forms.ModelForm):
    """Show and read the start, end and freeze times in the event's time zone, not the server's."""

    class Meta:
        model = Event
        fields = [
            "name",
            "description",
            "cover_image",
            "cover_image_url",
            "is_public",
            "timezone",
            "start_date",
            "end_date",
            "freeze_at",
            "format",
            "max_participants",
            "registration_required",
            "allow_late_registration",
            "participating_team_ids",
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
        for name in LOCAL_FIELDS:
            if name in self.fields:
                self.fields[name].help_text = "In the event's time zone."
                value = getattr(self.instance, name, None)
                if self.instance.pk and value is not None:
                    self.initial[name] = timezone.localtime(value, zoneinfo.ZoneInfo(tz_name)).replace(tzinfo=None)

    def clean(self):
        data = super().clean()
        tz_name = data.get("timezone") or "UTC"
        try:
            zone = zoneinfo.ZoneInfo(tz_name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            self.add_error("timezone", "Unknown time zone; use an IANA name such as Asia/Kuala_Lumpur.")
            return data
        for name in LOCAL_FIELDS:
            value = data.get(name)
            if value is not None:
                # The form parsed the wall-clock time in the server's zone; re-read it in the event's.
                data[name] = timezone.make_naive(value).replace(tzinfo=zone)
                setattr(self.instance, name, data[name])
        return data


class EventScenarioInline(admin.TabularInline):
    model = EventScenario
    extra = 1
    fields = ["sort_order", "scenario_version"]
    ordering = ["sort_order"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "scenario_version":
            kwargs["queryset"] = ScenarioVersion.objects.filter(status=VersionStatus.PUBLISHED).select_related(
                "scenario"
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Event)
class EventAdmin(ApplicationErrorAdminMixin, admin.ModelAdmin):
    form = EventForm
    inlines = [EventScenarioInline]
    list_display = ["name", "format", "start_date", "end_date", "timezone", "scoring_mode", "is_public"]
    list_filter = ["format", "scoring_mode", "is_public"]
    search_fields = ["name"]
    readonly_fields = ["created_by_user"]
    actions = ["export_scoreboard_csv"]
    fieldsets = [
        (None, {"fields": ["name", "description", "cover_image", "cover_image_url", "is_public", "created_by_user"]}),
        ("When", {"fields": ["timezone", "start_date", "end_date", "freeze_at"]}),
        (
            "Who",
            {
                "fields": [
                    "format",
                    "max_participants",
                    "registration_required",
                    "allow_late_registration",
                    "participating_team_ids",
                    "environment_mode",
                ]
            },
        ),
        (
            "Scoring",
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
    ]

    def save_model(self, request, obj, form, change):
        services.event_save(event=obj, actor=request.user, changed=sorted(form.changed_data))

    def delete_model(self, request, obj):
        services.event_delete(event=obj, actor=request.user)

    def save_formset(self, request, form, formset, change):
        if formset.model is not EventScenario:
            return super().save_formset(request, form, formset, change)
        saved = formset.save(commit=False)
        services.event_challenges_save(
            event=form.instance, actor=request.user, saved=saved, removed=formset.deleted_objects
        )
        return None

    def get_urls(self):
        return [
            path("<uuid:pk>/suspicions/", self.admin_site.admin_view(self.suspicions_view), name="events_suspicions"),
            path("<uuid:pk>/scoreboard.csv", self.admin_site.admin_view(self.csv_view), name="events_scoreboard_csv"),
            *super().get_urls(),
        ]

    def suspicions_view(self, request, pk):
        event = selectors.event_get_for_user(user=request.user, pk=pk)
        if request.method == "POST":
            try:
                participation = get_one(
                    EventParticipation.objects.filter(event=event),
                    "Choose a participant.",
                    pk=request.POST.get("participation"),
                )
                services.participation_disqualify(
                    participation=participation, actor=request.user, reason=request.POST.get("reason", "")
                )
                messages.success(request, f"{participation} is disqualified.")
            except ApplicationError as exc:
                messages.error(request, exc.message)
            return redirect(reverse("admin:events_suspicions", args=[event.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Suspected flag sharing: {event.name}",
            "event": event,
            "rows": selectors.suspicions_for_event(event=event),
            "participations": EventParticipation.objects.filter(event=event, disqualified=False).select_related(
                "user", "team"
            ),
        }
        return TemplateResponse(request, "admin/events/suspicions.html", context)

    def csv_view(self, request, pk):
        event = selectors.event_get_for_user(user=request.user, pk=pk)
        return _csv_response([event])

    @admin.action(description="Export the scoreboard as CSV")
    def export_scoreboard_csv(self, request, queryset):
        return _csv_response(list(queryset))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "event_links": [
                ("Suspected flag sharing", reverse("admin:events_suspicions", args=[object_id])),
                ("Scoreboard CSV", reverse("admin:events_scoreboard_csv", args=[object_id])),
            ],
        }
        return super().change_view(request, object_id, form_url, extra_context)


def _csv_response(events) -> HttpResponse:
    response = HttpResponse(content_type="text/csv")
    response["Content-Disposition"] = 'attachment; filename="scoreboard.csv"'
    writer = csv.writer(response)
    writer.writerow(
        ["event", "rank", "participant", "type", "points", "challenges_completed", "last_solve_at", "disqualified"]
    )
    for event in events:
        rows = (
            EventParticipation.objects.filter(event=event)
            .select_related("user", "team")
            .order_by("disqualified", "rank", "id")
        )
        for p in rows:
            writer.writerow(
                [
                    event.name,
                    p.rank or "",
                    p.display_name,
                    p.participant_type,
                    p.total_points,
                    p.challenges_completed,
                    p.last_solve_at.isoformat() if p.last_solve_at else "",
                    "yes" if p.disqualified else "",
                ]
            )
    return response


# A board row changes only through registration, solves and disqualification (ranks, audit, push).
@admin.register(EventParticipation)
class EventParticipationAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "event", "rank", "total_points", "challenges_completed", "disqualified"]
    list_filter = ["disqualified", "participant_type"]
    search_fields = ["event__name", "team__name", "user__email"]
    readonly_fields = [f.name for f in EventParticipation._meta.fields]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("event", "user", "team")
