"""Admin parts of test deployments, kept apart from the version admin so it merges easily.

- ``ValidationRuleInline``: a version's validation rules, edited inline while it is a DRAFT; a rule
  naming a machine or question that does not exist is refused on the field;
- ``TestDeployAdminMixin``: the "Test deploy" button and view of the version admin, and the latest
  run shown on the review (diff) page;
- ``ScenarioVersionTestRunAdmin``: a run's page, its rules and log, updated live while it runs;
- ``ScenarioVersionAdminTestAdmin``: test records, and an admin's manual sign-off with notes.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.scenarios.models import (
    AdminTestValidation,
    ScenarioVersion,
    ScenarioVersionAdminTest,
    ScenarioVersionTestRun,
)
from apps.scenarios.testing import (
    RULE_KINDS,
    admin_test_sign_off,
    content_hash,
    latest_run,
    rule_problems,
    version_names,
    version_test_deploy_request,
)
from rangex.core.errors import ApplicationError


class ValidationRuleForm(forms.ModelForm):
    class Meta:
        model = AdminTestValidation
        fields = [
            "position",
            "check_type",
            "machine_name",
            "run_as",
            "timeout_seconds",
            "command",
            "expected_exit_code",
            "pattern",
            "target_machine",
            "port",
            "expect_reachable",
            "check_target",
            "expected_status",
            "question_id",
        ]
        widgets = {"command": forms.Textarea(attrs={"rows": 3, "cols": 80, "class": "vLargeTextField"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["check_type"].choices = [(k.value, k.label) for k in RULE_KINDS]
        self.fields["machine_name"].required = True

    def clean(self):
        data = super().clean()
        version = ScenarioVersion.objects.filter(pk=self.instance.scenario_version_id).first()
        if version is None or self.errors:
            return data
        probe = AdminTestValidation(**{k: v for k, v in data.items() if k in self.Meta.fields})
        machines, questions = version_names(version)
        for field, texts in rule_problems(probe, machines=machines, questions=questions).items():
            for text in texts:
                self.add_error(field if field in self.fields else None, text)
        return data


class ValidationRuleInline(admin.StackedInline):
    """The rules every test deployment runs; editable only while the version is a DRAFT."""

    model = AdminTestValidation
    fk_name = "scenario_version"
    form = ValidationRuleForm
    extra = 0
    verbose_name = _("validation rule")
    verbose_name_plural = _("validation rules (run by every test deployment)")
    fieldsets = [
        (None, {"fields": [("check_type", "machine_name", "run_as", "timeout_seconds", "position")]}),
        (_("Command or solution script"), {"fields": ["command", ("expected_exit_code", "pattern")]}),
        (_("Reachable"), {"fields": [("target_machine", "port", "expect_reachable")]}),
        (_("HTTP or file"), {"fields": [("check_target", "expected_status")]}),
        (_("Solution"), {"fields": ["question_id"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(admin_test__isnull=True)

    def _editable(self, obj) -> bool:
        return obj is None or obj.is_editable

    def has_add_permission(self, request, obj=None):
        return self._editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._editable(obj) and super().has_delete_permission(request, obj)


def test_run_context(version: ScenarioVersion) -> dict:
    """What the review page shows next to the diff: the latest run, and whether it tested this content."""
    run = latest_run(version)
    return {
        "test_run": run,
        "test_run_current": run is not None and run.content_hash == content_hash(version),
        "test_deploy_url": reverse("admin:scenarios_scenarioversion_test_deploy", args=[version.pk]),
    }


class TestDeployAdminMixin:
    """For ScenarioVersionAdmin: the test-deploy button and its view."""

    def test_deploy_button(self, request, version) -> list[dict]:
        if not request.user.is_platform_admin:
            return []
        url = reverse("admin:scenarios_scenarioversion_test_deploy", args=[version.pk])
        return [{"name": "test-deploy", "label": gettext("Test deploy"), "url": url}]

    def test_deploy_urls(self) -> list:
        return [
            path(
                "<path:object_id>/test-deploy/",
                self.admin_site.admin_view(self.test_deploy_view),
                name="scenarios_scenarioversion_test_deploy",
            ),
        ]

    def test_deploy_view(self, request, object_id):
        version = self._get_or_404(request, object_id)
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        try:
            run = version_test_deploy_request(version=version, actor=request.user, keep=bool(request.POST.get("keep")))
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return redirect(reverse("admin:scenarios_scenarioversion_change", args=[version.pk]))
        messages.success(
            request,
            (
                gettext("Test deployment of %(version)s started.")
                if run.status == "pending"
                else gettext("%(version)s is already being tested; here is that run.")
            )
            % {"version": version},
        )
        return redirect(reverse("admin:scenarios_scenarioversiontestrun_change", args=[run.pk]))


class _AdminsOnly:
    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_platform_admin

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_platform_admin


@admin.register(ScenarioVersionTestRun)
class ScenarioVersionTestRunAdmin(_AdminsOnly, admin.ModelAdmin):
    change_form_template = "admin/scenarios/scenarioversiontestrun/change_form.html"
    list_display = ["scenario_version", "status", "initiated_by", "created_at", "duration_seconds"]
    list_filter = ["status"]
    list_select_related = ["scenario_version", "initiated_by"]
    fields = [
        "scenario_version",
        "status",
        "initiated_by",
        "keep",
        "started_at",
        "completed_at",
        "duration_seconds",
        "content_hash",
        "error_message",
        "session_token",
        "deployment_id",
    ]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        run = ScenarioVersionTestRun.objects.select_related("scenario_version").filter(pk=object_id).first()
        if run is None:
            raise Http404("No such test deployment.")
        context = {
            **(extra_context or {}),
            "run": run,
            "rules": (run.test_results or {}).get("rules", []),
            "machines": (run.test_results or {}).get("machines", []),
            "current": run.content_hash == content_hash(run.scenario_version),
            "version_url": reverse("admin:scenarios_scenarioversion_change", args=[run.scenario_version_id]),
        }
        return super().change_view(request, object_id, form_url, context)


class AdminTestForm(forms.ModelForm):
    class Meta:
        model = ScenarioVersionAdminTest
        fields = ["scenario_version", "status", "summary"]
        labels = {"summary": _("Notes")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [
            ("passed", gettext("Signed off: solvable")),
            ("failed", gettext("Not solvable")),
        ]


@admin.register(ScenarioVersionAdminTest)
class ScenarioVersionAdminTestAdmin(_AdminsOnly, admin.ModelAdmin):
    """Test records of versions; "Add" is an admin's manual sign-off with notes."""

    form = AdminTestForm
    list_display = ["scenario_version", "status", "mode_label", "created_by_admin", "created_at"]
    list_filter = ["status", "mode"]
    list_select_related = ["scenario_version", "created_by_admin"]
    autocomplete_fields = []

    @admin.display(description=_("Kind"))
    def mode_label(self, obj):
        return (
            gettext("manual sign-off")
            if obj.report_json and obj.report_json.get("manual")
            else gettext("test deployment")
        )

    def has_add_permission(self, request):
        return request.user.is_active and request.user.is_platform_admin

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if change:
            raise DjangoPermissionDenied
        signed = admin_test_sign_off(
            version=form.cleaned_data["scenario_version"],
            actor=request.user,
            passed=form.cleaned_data["status"] == "passed",
            notes=form.cleaned_data["summary"],
        )
        obj.pk = signed.pk
        obj._state.adding = False
