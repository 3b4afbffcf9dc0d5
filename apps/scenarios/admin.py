"""The creators' and admins' workplace for scenarios.

Creators see and edit only their own scenarios, and only DRAFT versions are editable. Every change
and every workflow step calls a service in ``apps.scenarios.services``; an ApplicationError becomes
an error message on the page. Admins also get the review queue and a diff against the previous version.
"""

from __future__ import annotations

import difflib
import json

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import models
from django.http import Http404, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.scenarios import admin_studio as studio
from apps.scenarios import authoring, selectors, services, tools
from apps.scenarios.admin_forms import (
    ExplainedJSONField,
    ScenarioVersionForm,
    asset_machine_of,
)
from apps.scenarios.admin_inlines import (
    MachineInline,
    PivotPointInline,
    ScenarioAssetInline,
)
from apps.scenarios.admin_library import (
    LibraryAssetInline,
    ScenarioAccessGrantInline,
    ScenarioLimitInline,
    save_library_formset,
    save_scenario_formset,
)
from apps.scenarios.admin_runtime import RuntimeChoiceAdminMixin
from apps.scenarios.admin_testing import TestDeployAdminMixin, ValidationRuleInline, test_run_context
from apps.scenarios.diffing import diff_class, version_as_text
from apps.scenarios.image_builds import tool_usage_refresh, version_images_build
from apps.scenarios.models import (
    AssetScenarioVersion,
    Machine,
    Scenario,
    ScenarioAsset,
    ScenarioVersion,
    Tool,
    VersionStatus,
)
from rangex.core.admin import ApplicationErrorAdminMixin
from rangex.core.errors import ApplicationError
from rangex.core.files import files_removed_on_error
from rangex.core.markdown import render_markdown

Textarea2 = forms.Textarea(attrs={"rows": 2})


class ScenarioAddForm(forms.ModelForm):
    title = forms.CharField(label=_("Title"), max_length=160)
    short_description = forms.CharField(label=_("Short description"), max_length=400, widget=Textarea2)
    category = forms.CharField(label=_("Category"), max_length=64)

    class Meta:
        model = Scenario
        fields = ["slug"]
        help_texts = {"slug": _("Filled in from the title; the scenario's address is /scenarios/<slug>/.")}


# --- Versions ------------------------------------------------------------------------------------------


def _status_badge(version: ScenarioVersion) -> str:
    return format_html(
        '<span class="rx-status rx-status-{}">{}</span>', version.status.lower(), version.get_status_display()
    )


@admin.register(ScenarioVersion)
class ScenarioVersionAdmin(TestDeployAdminMixin, admin.ModelAdmin):
    form = ScenarioVersionForm
    formfield_overrides = {models.JSONField: {"form_class": ExplainedJSONField}}
    change_form_template = "admin/scenarios/scenarioversion/change_form.html"
    list_display = ["title", "version_number", "scenario", "status_badge", "creator", "submitted_at", "updated_at"]
    list_filter = ["status", "scenario_type", "difficulty"]
    search_fields = ["title", "scenario__slug"]
    list_select_related = ["scenario", "scenario__created_by_user"]
    inlines = [MachineInline, ScenarioAssetInline, LibraryAssetInline, PivotPointInline, ValidationRuleInline]
    actions = [
        "submit_versions",
        "withdraw_versions",
        "approve_versions",
        "reject_versions",
        "publish_versions",
        "archive_versions",
        "new_versions",
        "build_images",
    ]
    fieldsets = [
        (None, {"fields": ["title", "short_description", ("category", "difficulty"), "tags", "cover_image"]}),
        (
            _("Play"),
            {
                "fields": [
                    ("scenario_type", "estimated_minutes", "requires_machines"),
                    ("validation_mode", "scoring_mode", "hint_mode"),
                    "mission_text",
                    "questions",
                    "hints",
                ]
            },
        ),
        (
            _("About"),
            {
                "fields": [
                    "creator_name",
                    "code_of_ethics",
                    "learning_outcomes",
                    "solution_writeup",
                    "solver_writeup",
                    "metadata",
                ]
            },
        ),
    ]
    workflow_fields = [
        "scenario",
        "version_number",
        "status",
        "based_on",
        "submitted_at",
        "approved_at",
        "approved_by_user",
        "published_at",
        "rejected_at",
        "rejected_by_user",
        "reject_reason",
        "archived_at",
    ]

    @admin.display(description=_("Status"), ordering="status")
    def status_badge(self, obj):
        return _status_badge(obj)

    @admin.display(description=_("Creator"), ordering="scenario__created_by_user__email")
    def creator(self, obj):
        return obj.scenario.created_by_user

    def get_fieldsets(self, request, obj=None):
        fieldsets = [*self.fieldsets, (gettext("Workflow"), {"fields": self.workflow_fields})]
        if obj is not None and not obj.is_editable:
            # A read-only version shows its questions and hints indented, for the reviewer.
            swap = {"questions": "questions_display", "hints": "hints_display"}
            fieldsets = [
                (name, {**opts, "fields": [swap.get(f, f) if isinstance(f, str) else f for f in opts["fields"]]})
                for name, opts in fieldsets
            ]
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        return [*self.workflow_fields, "questions_display", "hints_display"]

    @admin.display(description=_("Questions"))
    def questions_display(self, obj):
        return format_html("<pre>{}</pre>", json.dumps(obj.questions, indent=2, ensure_ascii=False))

    @admin.display(description=_("Hints"))
    def hints_display(self, obj):
        return format_html("<pre>{}</pre>", json.dumps(obj.hints, indent=2, ensure_ascii=False))

    def get_queryset(self, request):
        return selectors.scenario_version_list_for_creator(user=request.user)

    def has_add_permission(self, request):
        # A version is born with its scenario or as a copy of another ("New version").
        return False

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and (obj is None or obj.is_editable)

    def has_delete_permission(self, request, obj=None):
        # Versions are never deleted: lab sessions stay pinned to the version they started from.
        return False

    def _get_or_404(self, request, object_id) -> ScenarioVersion:
        try:
            return selectors.scenario_version_get_for_creator(user=request.user, pk=unquote(object_id))
        except ApplicationError:
            raise Http404("No such scenario version.") from None

    def change_view(self, request, object_id, form_url="", extra_context=None):
        version = self._get_or_404(request, object_id)
        groups = sorted(
            {*version.machines.values_list("network_group", flat=True)}
            | {*version.pivot_points.values_list("source_network_group", flat=True)}
            | {*version.pivot_points.values_list("target_network_group", flat=True)}
        )
        context = {
            **(extra_context or {}),
            "markdown_url": reverse("admin:scenarios_scenarioversion_markdown", args=[version.pk]),
            "workflow_buttons": self._buttons(request, version),
            "network_groups_json": json.dumps(groups),
        }
        if request.method == "GET" and request.GET.get("check"):
            errors = services.scenario_version_validate(version=version)
            request.rx_check_errors = studio.question_errors_by_index(version, errors)
            context["checklist"] = studio.checklist(version, errors)
            context["checklist_ok"] = not errors
        try:
            return super().change_view(request, object_id, form_url, context)
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return redirect(request.get_full_path())

    def history_view(self, request, object_id, extra_context=None):
        self._get_or_404(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def save_model(self, request, obj, form, change):
        # The form has already applied its values to ``obj`` (file fields included); pass them on.
        data = {name: getattr(obj, name) for name in form.changed_data if name in services.EDITABLE_FIELDS}
        services.scenario_version_update(version=obj, actor=request.user, data=data)

    def save_formset(self, request, form, formset, change):
        version = form.instance
        if formset.model is AssetScenarioVersion:
            return save_library_formset(request, version, formset)
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            services.scenario_version_component_delete(version=version, actor=request.user, obj=obj)
        by_instance = {id(f.instance): f for f in formset.forms}
        for obj in instances:
            row = by_instance.get(id(obj))
            if isinstance(obj, ScenarioAsset) and row is not None:
                # The machine is named, not picked by id: it may have been added in this same save.
                obj.machine = asset_machine_of(row, version)
            try:
                services.scenario_version_component_save(version=version, actor=request.user, obj=obj)
            except ApplicationError as exc:
                exc.form_prefix = row.prefix if row is not None else None
                raise
        if formset.model is ScenarioAsset:
            studio.staged_uploads_discard_on_commit(formset, user_id=request.user.pk)
        if formset.model is Machine:
            formset.save_m2m()  # the machines' tools
            tool_usage_refresh()

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if obj is not None and "questions" in form.base_fields:
            url = reverse("admin:scenarios_scenarioversion_try_answer", args=[obj.pk])
            form.base_fields["questions"].widget.test_url = url
            form.base_fields["questions"].widget.question_errors = dict(getattr(request, "rx_check_errors", {}))
        refused = getattr(request, "rx_refused", None)
        return studio.form_refusing(form, refused) if refused is not None else form

    def get_formset_kwargs(self, request, obj, inline, prefix):
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        refused = getattr(request, "rx_refused", None)
        if refused is not None and inline.model is ScenarioAsset:
            kwargs["refused"] = refused
        return kwargs

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if request.method != "POST":
            return super().changeform_view(request, object_id, form_url, extra_context)
        try:
            # Django's view saves inside one transaction; a refusal rolls back every row, and the
            # block removes every file stored on the way.
            with files_removed_on_error():
                response = super().changeform_view(request, object_id, form_url, extra_context)
        except ApplicationError as exc:
            # Show the same page again, bound to what was typed, with the refusal next to its field.
            request.rx_refused = exc
            response = super().changeform_view(request, object_id, form_url, extra_context)
        studio.staged_uploads_keep(request, response)
        return response

    def response_change(self, request, obj):
        step = request.POST.get("_workflow")
        if step in studio.SAVE_FIRST_STEPS:
            # "Submit", "Archive" and "New version" on a draft save the page first, then take the step.
            change_url = reverse("admin:scenarios_scenarioversion_change", args=[obj.pk])
            if step == "archive":
                return redirect(reverse("admin:scenarios_scenarioversion_workflow", args=[obj.pk, "archive"]))
            if step == "check":
                return redirect(f"{change_url}?check=1")
            result = self._run_step(request, obj, step)
            if step == "new" and result is not None:
                return redirect(reverse("admin:scenarios_scenarioversion_change", args=[result.pk]))
            # A refused submit shows the checklist, each problem next to its field.
            return redirect(change_url if result is not None else f"{change_url}?check=1")
        return super().response_change(request, obj)

    # --- Workflow buttons and views ---

    def _buttons(self, request, version: ScenarioVersion) -> list[dict]:
        user = request.user
        is_admin = user.is_platform_admin
        is_owner = version.scenario.created_by_user_id == user.pk
        allowed = ScenarioVersion.TRANSITIONS[version.status]
        candidates = [
            ("check", gettext("Check"), version.is_editable),
            ("submit", gettext("Submit for review"), VersionStatus.SUBMITTED in allowed and version.is_editable),
            ("withdraw", gettext("Withdraw"), version.status == VersionStatus.SUBMITTED and is_owner),
            ("reopen", gettext("Reopen as draft"), version.status == VersionStatus.REJECTED),
            ("approve", gettext("Approve"), is_admin and not is_owner and VersionStatus.APPROVED in allowed),
            ("reject", gettext("Reject…"), is_admin and not is_owner and VersionStatus.REJECTED in allowed),
            ("publish", gettext("Publish"), is_admin and VersionStatus.PUBLISHED in allowed),
            (
                "archive",
                gettext("Archive"),
                VersionStatus.ARCHIVED in allowed
                and (is_admin or version.status in (VersionStatus.DRAFT, VersionStatus.REJECTED)),
            ),
            ("new", gettext("New version from this one"), True),
        ]
        buttons = [
            {
                "name": name,
                "label": label,
                "url": reverse("admin:scenarios_scenarioversion_workflow", args=[version.pk, name]),
                # On a draft these save the page first (they submit the change form).
                "saves_first": version.is_editable and name in studio.SAVE_FIRST_STEPS,
            }
            for name, label, shown in candidates
            if shown
        ]
        buttons += self.test_deploy_button(request, version)
        buttons.append(
            {
                "name": "preview",
                "label": gettext("Preview"),
                "url": reverse("scenarios:preview", args=[version.pk]),
                "get": True,
            }
        )
        buttons.append(
            {
                "name": "diff",
                "label": gettext("Compare with previous"),
                "url": reverse("admin:scenarios_scenarioversion_diff", args=[version.pk]),
                "get": True,
            }
        )
        return buttons

    def get_urls(self):
        urls = [
            path(
                "review-queue/",
                self.admin_site.admin_view(self.review_queue_view),
                name="scenarios_scenarioversion_review_queue",
            ),
            path(
                "<path:object_id>/workflow/<str:step>/",
                self.admin_site.admin_view(self.workflow_view),
                name="scenarios_scenarioversion_workflow",
            ),
            path(
                "<path:object_id>/markdown/",
                self.admin_site.admin_view(self.markdown_view),
                name="scenarios_scenarioversion_markdown",
            ),
            path(
                "<path:object_id>/try-answer/",
                self.admin_site.admin_view(self.try_answer_view),
                name="scenarios_scenarioversion_try_answer",
            ),
            path(
                "<path:object_id>/diff/",
                self.admin_site.admin_view(self.diff_view),
                name="scenarios_scenarioversion_diff",
            ),
        ]
        return urls + self.test_deploy_urls() + super().get_urls()

    def _run_step(self, request, version: ScenarioVersion, step: str, reason: str = "") -> ScenarioVersion | None:
        steps = {
            "submit": (services.scenario_version_submit, gettext("%(version)s submitted for review.")),
            "withdraw": (services.scenario_version_withdraw, gettext("%(version)s withdrawn.")),
            "reopen": (services.scenario_version_reopen, gettext("%(version)s reopened as a draft.")),
            "approve": (services.scenario_version_approve, gettext("%(version)s approved.")),
            "publish": (services.scenario_version_publish, gettext("%(version)s published.")),
            "archive": (services.scenario_version_archive, gettext("%(version)s archived.")),
        }
        try:
            if step == "reject":
                result = services.scenario_version_reject(version=version, actor=request.user, reason=reason)
                messages.success(request, gettext("%(version)s rejected.") % {"version": version})
            elif step == "new":
                result = services.scenario_version_new(source=version, actor=request.user)
                messages.success(request, gettext("Created %(version)s as a draft.") % {"version": result})
            else:
                service, done = steps[step]
                result = service(version=version, actor=request.user)
                messages.success(request, done % {"version": version})
        except ApplicationError as exc:
            if step == "submit" and exc.fields:
                # The checklist on the version page lists every problem next to its field, in words.
                msg = gettext("%(version)s was not submitted. %(problem)s See the checklist.")
                messages.error(request, msg % {"version": version, "problem": exc.message})
            else:
                messages.error(request, f"{version}: {exc.message}")
            return None
        return result

    def workflow_view(self, request, object_id, step):
        version = self._get_or_404(request, object_id)
        known = {"submit", "withdraw", "reopen", "approve", "reject", "publish", "archive", "new"}
        if step not in known:
            raise Http404("No such workflow step.")
        change_url = reverse("admin:scenarios_scenarioversion_change", args=[version.pk])
        if step == "reject":
            if not request.user.is_platform_admin:
                messages.error(request, gettext("Only admins may reject a scenario version."))
                return redirect(change_url)
            posted = request.method == "POST" and "reason" in request.POST
            if posted and self._run_step(request, version, "reject", request.POST["reason"]) is not None:
                return redirect(change_url)
            return self._reject_form(request, [version], error_url=change_url)
        if step == "archive" and request.POST.get("confirm") != "yes":
            if request.method not in ("GET", "POST"):
                return HttpResponseNotAllowed(["GET", "POST"])
            return self._archive_form(request, version, back_url=change_url)
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        result = self._run_step(request, version, step)
        if step == "new" and result is not None:
            return redirect(reverse("admin:scenarios_scenarioversion_change", args=[result.pk]))
        return redirect(change_url)

    def markdown_view(self, request, object_id):
        """Render typed Markdown exactly as solvers will see it (the same sanitising renderer)."""
        self._get_or_404(request, object_id)
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        return HttpResponse(render_markdown(request.POST.get("text", "")[:200_000]))

    def try_answer_view(self, request, object_id):
        """Grade a candidate answer against a question as typed on the page (nothing is saved)."""
        self._get_or_404(request, object_id)
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        try:
            question = json.loads(request.POST.get("question") or "{}")
            hints = json.loads(request.POST.get("hints") or "[]")
        except ValueError:
            return JsonResponse(
                {"ok": False, "correct": False, "points": 0, "message": gettext("The question could not be read.")}
            )
        if not isinstance(question, dict) or not isinstance(hints, list):
            return JsonResponse(
                {"ok": False, "correct": False, "points": 0, "message": gettext("The question could not be read.")}
            )
        verdict = authoring.answer_try(
            question=question,
            hints=[h for h in hints if isinstance(h, dict)],
            answer=request.POST.get("answer", ""),
            scoring_mode=request.POST.get("scoring_mode") or "allOrNothing",
            hint_mode=request.POST.get("hint_mode") or "disabled",
        )
        return JsonResponse(verdict)

    def _archive_form(self, request, version, *, back_url):
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Archive %(version)s?") % {"version": version},
            "opts": self.model._meta,
            "version": version,
            "back_url": back_url,
        }
        return TemplateResponse(request, "admin/scenarios/scenarioversion/archive.html", context)

    def _reject_form(self, request, versions, *, error_url, action: bool = False):
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Reject for changes"),
            "opts": self.model._meta,
            "versions": versions,
            "action": action,
            "back_url": error_url,
            "reason": request.POST.get("reason", ""),
        }
        return TemplateResponse(request, "admin/scenarios/scenarioversion/reject.html", context)

    def review_queue_view(self, request):
        if not request.user.is_platform_admin:
            raise DjangoPermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Review queue"),
            "opts": self.model._meta,
            "versions": selectors.review_queue(),
        }
        return TemplateResponse(request, "admin/scenarios/scenarioversion/review_queue.html", context)

    def diff_view(self, request, object_id):
        version = self._get_or_404(request, object_id)
        previous = selectors.scenario_version_previous(version=version)
        lines = list(
            difflib.unified_diff(
                version_as_text(previous).splitlines() if previous else [],
                version_as_text(version).splitlines(),
                fromfile=str(previous) if previous else gettext("(nothing before)"),
                tofile=str(version),
                lineterm="",
            )
        )
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Changes in %(version)s") % {"version": version},
            "opts": self.model._meta,
            "version": version,
            "previous": previous,
            "lines": [(diff_class(line), line) for line in lines],
            **test_run_context(version),
        }
        return TemplateResponse(request, "admin/scenarios/scenarioversion/diff.html", context)

    def changelist_view(self, request, extra_context=None):
        context = {**(extra_context or {}), "show_review_queue": request.user.is_platform_admin}
        return super().changelist_view(request, context)

    # --- Admin actions: each calls the service per version and reports per version ---

    def _bulk(self, request, queryset, step: str) -> None:
        for version in queryset:
            self._run_step(request, version, step)

    @admin.action(description=_("Submit selected versions for review"))
    def submit_versions(self, request, queryset):
        self._bulk(request, queryset, "submit")

    @admin.action(description=_("Withdraw selected versions from review"))
    def withdraw_versions(self, request, queryset):
        self._bulk(request, queryset, "withdraw")

    @admin.action(description=_("Approve selected versions"))
    def approve_versions(self, request, queryset):
        self._bulk(request, queryset, "approve")

    @admin.action(description=_("Reject selected versions (asks for a reason)"))
    def reject_versions(self, request, queryset):
        if "reason" not in request.POST:
            return self._reject_form(request, list(queryset), error_url=request.get_full_path(), action=True)
        reason = request.POST.get("reason", "")
        if not reason.strip():
            messages.error(request, gettext("Give the creator a reason for the rejection."))
            return self._reject_form(request, list(queryset), error_url=request.get_full_path(), action=True)
        for version in queryset:
            self._run_step(request, version, "reject", reason)
        return None

    @admin.action(description=_("Publish selected versions"))
    def publish_versions(self, request, queryset):
        self._bulk(request, queryset, "publish")

    @admin.action(description=_("Archive selected versions"))
    def archive_versions(self, request, queryset):
        self._bulk(request, queryset, "archive")

    @admin.action(description=_("Create a new draft version from each selected version"))
    def new_versions(self, request, queryset):
        self._bulk(request, queryset, "new")

    @admin.action(description=_("Build the images of selected versions (build contexts and tools)"))
    def build_images(self, request, queryset):
        for version in queryset:
            try:
                stages = version_images_build(version=version, actor=request.user)
            except ApplicationError as exc:
                messages.error(request, f"{version}: {exc.message}")
                continue
            url = reverse("admin:images_imagepipelinestage_changelist") + f"?q={stages[0].image_tag}"
            names = ", ".join(f"{s.machine_name or s.image_tag[:12]}: {s.get_status_display().lower()}" for s in stages)
            link = format_html('<a href="{}">{}</a>', url, gettext("image pipeline"))
            messages.success(request, format_html("{}: {}: {}", version, link, names))


# --- Scenarios -----------------------------------------------------------------------------------------


class VersionLinkInline(admin.TabularInline):
    model = ScenarioVersion
    fields = ["link", "status", "submitted_at", "published_at", "updated_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    @admin.display(description=_("Version"))
    def link(self, obj):
        url = reverse("admin:scenarios_scenarioversion_change", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, obj)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Scenario)
class ScenarioAdmin(RuntimeChoiceAdminMixin, ApplicationErrorAdminMixin, admin.ModelAdmin):
    list_display = ["slug", "created_by_user", "is_published", "runtime_key", "average_rating", "updated_at"]
    list_filter = ["is_published", "runtime_key"]
    search_fields = ["slug", "versions__title"]
    list_select_related = ["created_by_user"]
    readonly_fields = ["slug", "created_by_user", "is_published", "average_rating", "total_ratings"]
    inlines = [VersionLinkInline, ScenarioLimitInline, ScenarioAccessGrantInline]

    class Media:
        js = ["admin/js/urlify.js", "js/admin_scenario_add.js"]

    def get_queryset(self, request):
        return selectors.scenario_list_for_creator(user=request.user)

    def save_formset(self, request, form, formset, change):
        if formset.model is ScenarioVersion:
            formset.save(commit=False)  # read-only rows; this only records that nothing changed
        else:
            save_scenario_formset(request, form.instance, formset)

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = ScenarioAddForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        return ["title", "slug", "short_description", "category"] if obj is None else self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def get_inlines(self, request, obj):
        return [] if obj is None else self.inlines

    def has_change_permission(self, request, obj=None):
        # Everything about a scenario changes through its versions; admins set its limits and allow list here.
        return obj is not None and request.user.is_platform_admin

    def has_delete_permission(self, request, obj=None):
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if self.get_object(request, unquote(object_id)) is None:
            raise Http404("No such scenario.")
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        if change:
            return  # only the limit and allow-list inlines change here
        data = form.cleaned_data
        version = services.scenario_create(
            actor=request.user,
            slug=data["slug"],
            title=data["title"],
            short_description=data["short_description"],
            category=data["category"],
        )
        obj.pk = version.scenario.pk
        obj._created_version = version

    def save_related(self, request, form, formsets, change):
        """The first version is created by ``scenario_create``; on change only the limit inlines save."""
        if change:
            for formset in formsets:
                self.save_formset(request, form, formset, change)

    def response_add(self, request, obj, post_url_continue=None):
        messages.success(request, gettext("Scenario created. Fill in version 1 and submit it for review."))
        return redirect(reverse("admin:scenarios_scenarioversion_change", args=[obj._created_version.pk]))


@admin.register(Tool)
class ToolAdmin(ApplicationErrorAdminMixin, admin.ModelAdmin):
    list_display = ["name", "version", "category", "package_manager", "is_active", "usage_count"]
    list_filter = ["is_active", "category", "package_manager"]
    search_fields = ["name", "description", "package_name"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def save_model(self, request, obj, form, change):
        tools.tool_save(actor=request.user, tool=obj, changed=form.changed_data)

    def delete_model(self, request, obj):
        tools.tool_delete(actor=request.user, tool=obj)
