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
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from apps.images.models import ImageVariant, PlatformImage, RegistryCredential
from apps.scenarios import selectors, services
from apps.scenarios.admin_testing import TestDeployAdminMixin, ValidationRuleInline, test_run_context
from apps.scenarios.models import (
    Machine,
    NetworkPivotPoint,
    Scenario,
    ScenarioAsset,
    ScenarioVersion,
    Tool,
    VersionStatus,
)
from apps.scenarios.validation import questions_errors
from rangex.core.admin import ApplicationErrorAdminMixin, SecretFieldsAdminMixin, SecretKeepingForm
from rangex.core.errors import ApplicationError

QUESTIONS_HELP = (
    "A JSON list. Each question: "
    '{"id": "q1", "type": "flag|single_choice|multiple_choice|numeric|free_text", "prompt": "...", '
    '"points": 10, "max_attempts": 3 or null}. Flag: "answer", "match": "exact|case_insensitive|regex", '
    'optional "dynamic": true with "flag_machine" and "flag_path". Choices: "options": [...], "correct": [0]. '
    'Numeric: "answer": 42, "tolerance": 0.'
)
HINTS_HELP = 'A JSON list. Each hint: {"id": "h1", "question_id": "q1", "text": "...", "cost": 5}.'


class PrettyJSONField(forms.JSONField):
    """A JSON textarea that shows the stored value indented, so creators can read and edit it."""

    def prepare_value(self, value):
        if isinstance(value, forms.fields.InvalidJSONInput):
            return value
        return json.dumps(value, indent=2, ensure_ascii=False, cls=self.encoder)


class ScenarioVersionForm(forms.ModelForm):
    questions = PrettyJSONField(
        required=False, initial=list, help_text=QUESTIONS_HELP, widget=forms.Textarea(attrs={"rows": 16, "cols": 100})
    )
    hints = PrettyJSONField(
        required=False, initial=list, help_text=HINTS_HELP, widget=forms.Textarea(attrs={"rows": 8, "cols": 100})
    )

    class Meta:
        model = ScenarioVersion
        fields = list(services.EDITABLE_FIELDS)

    def clean(self):
        data = super().clean()
        for name in ("questions", "hints"):
            if name in data and data[name] is None:
                data[name] = []
        # An empty draft is fine until submit. Invalid JSON already has its error on the field; with bad
        # hints the questions are still checked (against no hints).
        if "questions" in data and (data.get("questions") or data.get("hints")):
            hints_ok = "hints" in data
            errors = questions_errors(
                data["questions"],
                data["hints"] if hints_ok else [],
                scenario_type=data.get("scenario_type") or "challenge",
                validation_mode=data.get("validation_mode") or "instant",
            )
            for key, texts in errors.items():
                field = "hints" if key.startswith("hints") else "questions"
                if field == "hints" and not hints_ok:
                    continue
                for text in texts:
                    self.add_error(field, text if key == field else f"{key}: {text}")
        return data


class ScenarioAddForm(forms.ModelForm):
    title = forms.CharField(max_length=160)
    short_description = forms.CharField(max_length=400, widget=forms.Textarea(attrs={"rows": 2}))
    category = forms.CharField(max_length=64)

    class Meta:
        model = Scenario
        fields = ["slug"]


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


class MachineInline(DraftOnlyInlineMixin, SecretFieldsAdminMixin, admin.StackedInline):
    model = Machine
    form = SecretKeepingForm
    extra = 0
    fieldsets = [
        (None, {"fields": [("name", "role", "sort_order"), ("network_group", "is_pivot_host", "allow_solver_entry")]}),
        (
            "Image",
            {"fields": ["image_source_type", "image_variant", "platform_image", "image_ref", "registry_credential"]},
        ),
        (
            "Resources and access",
            {
                "fields": [
                    ("resource_profile", "network_egress_policy"),
                    "exposed_ports",
                    ("ssh_enabled", "rdp_enabled", "web_enabled"),
                    ("ssh_username", "ssh_password"),
                    "environment_vars",
                    "entrypoints",
                    "ready_check",
                    ("run_as_user", "capabilities"),
                ]
            },
        ),
    ]

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
    extra = 0
    fields = ["file", "file_name", "asset_type", "machine", "target_path", "permissions", "description"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "machine":
            version_id = request.resolver_match.kwargs.get("object_id") if request.resolver_match else None
            kwargs["queryset"] = Machine.objects.filter(scenario_version_id=version_id)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class PivotPointInline(DraftOnlyInlineMixin, admin.TabularInline):
    model = NetworkPivotPoint
    extra = 0
    fields = ["source_network_group", "target_network_group", "description"]


# --- Versions ------------------------------------------------------------------------------------------


def _status_badge(version: ScenarioVersion) -> str:
    return format_html('<span class="rx-status rx-status-{}">{}</span>', version.status.lower(), version.status)


@admin.register(ScenarioVersion)
class ScenarioVersionAdmin(TestDeployAdminMixin, admin.ModelAdmin):
    form = ScenarioVersionForm
    change_form_template = "admin/scenarios/scenarioversion/change_form.html"
    list_display = ["title", "version_number", "scenario", "status_badge", "creator", "submitted_at", "updated_at"]
    list_filter = ["status", "scenario_type", "difficulty"]
    search_fields = ["title", "scenario__slug"]
    list_select_related = ["scenario", "scenario__created_by_user"]
    inlines = [MachineInline, ScenarioAssetInline, PivotPointInline, ValidationRuleInline]
    actions = [
        "submit_versions",
        "withdraw_versions",
        "approve_versions",
        "reject_versions",
        "publish_versions",
        "archive_versions",
        "new_versions",
    ]
    fieldsets = [
        (None, {"fields": ["title", "short_description", ("category", "difficulty"), "tags", "cover_image"]}),
        (
            "Play",
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
            "About",
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

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj):
        return _status_badge(obj)

    @admin.display(description="Creator", ordering="scenario__created_by_user__email")
    def creator(self, obj):
        return obj.scenario.created_by_user

    def get_fieldsets(self, request, obj=None):
        fieldsets = [*self.fieldsets, ("Workflow", {"fields": self.workflow_fields})]
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

    @admin.display(description="Questions")
    def questions_display(self, obj):
        return format_html("<pre>{}</pre>", json.dumps(obj.questions, indent=2, ensure_ascii=False))

    @admin.display(description="Hints")
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
        context = {**(extra_context or {}), "workflow_buttons": self._buttons(request, version)}
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
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            services.scenario_version_component_delete(version=version, actor=request.user, obj=obj)
        for obj in instances:
            services.scenario_version_component_save(version=version, actor=request.user, obj=obj)

    # --- Workflow buttons and views ---

    def _buttons(self, request, version: ScenarioVersion) -> list[dict]:
        user = request.user
        is_admin = user.is_platform_admin
        is_owner = version.scenario.created_by_user_id == user.pk
        allowed = ScenarioVersion.TRANSITIONS[version.status]
        candidates = [
            ("submit", "Submit for review", VersionStatus.SUBMITTED in allowed and version.is_editable),
            ("withdraw", "Withdraw", version.status == VersionStatus.SUBMITTED),
            ("reopen", "Reopen as draft", version.status == VersionStatus.REJECTED),
            ("approve", "Approve", is_admin and not is_owner and VersionStatus.APPROVED in allowed),
            ("reject", "Reject…", is_admin and not is_owner and VersionStatus.REJECTED in allowed),
            ("publish", "Publish", is_admin and VersionStatus.PUBLISHED in allowed),
            (
                "archive",
                "Archive",
                VersionStatus.ARCHIVED in allowed
                and (is_admin or version.status in (VersionStatus.DRAFT, VersionStatus.REJECTED)),
            ),
            ("new", "New version from this one", True),
        ]
        buttons = [
            {
                "name": name,
                "label": label,
                "url": reverse("admin:scenarios_scenarioversion_workflow", args=[version.pk, name]),
            }
            for name, label, shown in candidates
            if shown
        ]
        buttons += self.test_deploy_button(request, version)
        buttons.append(
            {
                "name": "diff",
                "label": "Compare with previous",
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
                "<path:object_id>/diff/",
                self.admin_site.admin_view(self.diff_view),
                name="scenarios_scenarioversion_diff",
            ),
        ]
        return urls + self.test_deploy_urls() + super().get_urls()

    def _run_step(self, request, version: ScenarioVersion, step: str, reason: str = "") -> ScenarioVersion | None:
        steps = {
            "submit": (services.scenario_version_submit, "submitted for review"),
            "withdraw": (services.scenario_version_withdraw, "withdrawn"),
            "reopen": (services.scenario_version_reopen, "reopened as a draft"),
            "approve": (services.scenario_version_approve, "approved"),
            "publish": (services.scenario_version_publish, "published"),
            "archive": (services.scenario_version_archive, "archived"),
        }
        try:
            if step == "reject":
                result = services.scenario_version_reject(version=version, actor=request.user, reason=reason)
                messages.success(request, f"{version} rejected.")
            elif step == "new":
                result = services.scenario_version_new(source=version, actor=request.user)
                messages.success(request, f"Created {result} as a draft.")
            else:
                service, done = steps[step]
                result = service(version=version, actor=request.user)
                messages.success(request, f"{version} {done}.")
        except ApplicationError as exc:
            # The message names the first problem; list the others too so one round of fixes is enough.
            others = [f"{field}: {text}" for field, texts in exc.fields.items() for text in texts][1:]
            messages.error(request, f"{version}: {exc.message}" + (f" Also: {'; '.join(others)}" if others else ""))
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
                messages.error(request, "Only admins may reject a scenario version.")
                return redirect(change_url)
            posted = request.method == "POST" and "reason" in request.POST
            if posted and self._run_step(request, version, "reject", request.POST["reason"]) is not None:
                return redirect(change_url)
            return self._reject_form(request, [version], error_url=change_url)
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        result = self._run_step(request, version, step)
        if step == "new" and result is not None:
            return redirect(reverse("admin:scenarios_scenarioversion_change", args=[result.pk]))
        return redirect(change_url)

    def _reject_form(self, request, versions, *, error_url, action: bool = False):
        context = {
            **self.admin_site.each_context(request),
            "title": "Reject for changes",
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
            "title": "Review queue",
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
                fromfile=str(previous) if previous else "(nothing before)",
                tofile=str(version),
                lineterm="",
            )
        )
        context = {
            **self.admin_site.each_context(request),
            "title": f"Changes in {version}",
            "opts": self.model._meta,
            "version": version,
            "previous": previous,
            "lines": [(_diff_class(line), line) for line in lines],
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

    @admin.action(description="Submit selected versions for review")
    def submit_versions(self, request, queryset):
        self._bulk(request, queryset, "submit")

    @admin.action(description="Withdraw selected versions from review")
    def withdraw_versions(self, request, queryset):
        self._bulk(request, queryset, "withdraw")

    @admin.action(description="Approve selected versions")
    def approve_versions(self, request, queryset):
        self._bulk(request, queryset, "approve")

    @admin.action(description="Reject selected versions (asks for a reason)")
    def reject_versions(self, request, queryset):
        if "reason" not in request.POST:
            return self._reject_form(request, list(queryset), error_url=request.get_full_path(), action=True)
        reason = request.POST.get("reason", "")
        if not reason.strip():
            messages.error(request, "Give the creator a reason for the rejection.")
            return self._reject_form(request, list(queryset), error_url=request.get_full_path(), action=True)
        for version in queryset:
            self._run_step(request, version, "reject", reason)
        return None

    @admin.action(description="Publish selected versions")
    def publish_versions(self, request, queryset):
        self._bulk(request, queryset, "publish")

    @admin.action(description="Archive selected versions")
    def archive_versions(self, request, queryset):
        self._bulk(request, queryset, "archive")

    @admin.action(description="Create a new draft version from each selected version")
    def new_versions(self, request, queryset):
        self._bulk(request, queryset, "new")


def _diff_class(line: str) -> str:
    if line.startswith(("+++", "---")):
        return "file"
    if line.startswith("@@"):
        return "hunk"
    if line.startswith("+"):
        return "add"
    if line.startswith("-"):
        return "del"
    return ""


def version_as_text(version: ScenarioVersion) -> str:
    """Render a version's content as stable text for a line diff: fields, questions, hints, machines."""
    out = []
    for name in services.EDITABLE_FIELDS:
        if name in ("questions", "hints"):
            continue
        value = getattr(version, name)
        if name == "cover_image":
            value = value.name if value else ""
        out.append(f"{name}: {json.dumps(value, ensure_ascii=False, default=str)}")
    out.append("questions:")
    out.extend("  " + line for line in json.dumps(version.questions, indent=2, sort_keys=True).splitlines())
    out.append("hints:")
    out.extend("  " + line for line in json.dumps(version.hints, indent=2, sort_keys=True).splitlines())
    skip = {"id", "scenario_version", "created_at", "updated_at", "ssh_password"}
    for machine in version.machines.select_related("image_variant", "platform_image", "registry_credential"):
        out.append(f"machine {machine.name}:")
        for field in machine._meta.concrete_fields:
            if field.name in skip:
                continue
            value = getattr(machine, field.name)
            out.append(f"  {field.name}: {json.dumps(value if not hasattr(value, 'pk') else str(value), default=str)}")
        out.append(f"  ssh_password: {'(set)' if machine.ssh_password else '(none)'}")
    for point in version.pivot_points.all():
        out.append(f"pivot: {point.source_network_group} <-> {point.target_network_group} {point.description}")
    for asset in version.assets.select_related("machine"):
        machine = asset.machine.name if asset.machine else "-"
        out.append(
            f"asset: {asset.file_name} [{asset.asset_type}] machine={machine} "
            f"target={asset.target_path} sha256={asset.sha256}"
        )
    return "\n".join(out)


# --- Scenarios -----------------------------------------------------------------------------------------


class VersionLinkInline(admin.TabularInline):
    model = ScenarioVersion
    fields = ["link", "status", "submitted_at", "published_at", "updated_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    @admin.display(description="Version")
    def link(self, obj):
        url = reverse("admin:scenarios_scenarioversion_change", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, obj)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Scenario)
class ScenarioAdmin(ApplicationErrorAdminMixin, admin.ModelAdmin):
    list_display = ["slug", "created_by_user", "is_published", "average_rating", "total_ratings", "updated_at"]
    list_filter = ["is_published"]
    search_fields = ["slug", "versions__title"]
    list_select_related = ["created_by_user"]
    readonly_fields = ["slug", "created_by_user", "is_published", "average_rating", "total_ratings"]
    inlines = [VersionLinkInline]

    def get_queryset(self, request):
        return selectors.scenario_list_for_creator(user=request.user)

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = ScenarioAddForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        return ["slug", "title", "short_description", "category"] if obj is None else self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def get_inlines(self, request, obj):
        return [] if obj is None else self.inlines

    def has_change_permission(self, request, obj=None):
        # Everything about a scenario changes through its versions.
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if self.get_object(request, unquote(object_id)) is None:
            raise Http404("No such scenario.")
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
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
        """The first version is created by ``scenario_create``; nothing else to save."""

    def response_add(self, request, obj, post_url_continue=None):
        messages.success(request, "Scenario created. Fill in version 1 and submit it for review.")
        return redirect(reverse("admin:scenarios_scenarioversion_change", args=[obj._created_version.pk]))


@admin.register(Tool)
class ToolAdmin(ApplicationErrorAdminMixin, admin.ModelAdmin):
    list_display = ["name", "version", "category", "package_manager", "is_active", "usage_count"]
    list_filter = ["is_active", "category", "package_manager"]
    search_fields = ["name", "description", "package_name"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def save_model(self, request, obj, form, change):
        services.tool_save(actor=request.user, tool=obj, changed=form.changed_data)

    def delete_model(self, request, obj):
        services.tool_delete(actor=request.user, tool=obj)
