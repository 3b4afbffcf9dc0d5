"""Validation rules and the publish gate without an engine: refusals naming the field, bundles, ctfcli
health checks, the content hash, the gate through the admin and the API, sign-off, one run at a time."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from apps.scenarios import services
from apps.scenarios.bundles import bundle_export
from apps.scenarios.factories import draft_version, passing_test_run, submitted_version
from apps.scenarios.imports import scenario_import
from apps.scenarios.models import AdminTestValidation, ScenarioVersionTestRun, VersionStatus
from apps.scenarios.testing import admin_test_sign_off, content_hash, version_test_deploy_request
from apps.scenarios.tests.test_api import _token_client
from rangex.core.errors import Conflict, ValidationFailed
from rangex.core.system import invalidate_settings_cache, system_settings_update

pytestmark = pytest.mark.django_db

SOLUTION = {"check_type": "solution", "machine_name": "attacker", "question_id": "q1", "command": "echo RX{x}"}


def test_a_rule_naming_a_missing_machine_or_question_is_refused_naming_the_field(creator):
    version = draft_version(creator=creator)
    with pytest.raises(ValidationFailed) as bad_machine:
        services.validation_rule_add(version=version, actor=creator, **{**SOLUTION, "machine_name": "ghost"})
    assert "no machine named 'ghost'" in bad_machine.value.message and "machine_name" in bad_machine.value.fields
    with pytest.raises(ValidationFailed) as bad_question:
        services.validation_rule_add(version=version, actor=creator, **{**SOLUTION, "question_id": "q9"})
    assert bad_question.value.fields == {"question_id": ["This version has no question 'q9'."]}
    reach = {"check_type": "reachable", "machine_name": "attacker", "target_machine": "db", "port": 70000}
    with pytest.raises(ValidationFailed) as bad_reach:
        services.validation_rule_add(version=version, actor=creator, **reach)
    assert set(bad_reach.value.fields) == {"target_machine", "port"}
    assert services.validation_rule_add(version=version, actor=creator, **SOLUTION).pk


def test_the_admin_inline_refuses_a_rule_on_its_field(creator, creator_client):
    version = draft_version(creator=creator)
    url = reverse("admin:scenarios_scenarioversion_change", args=[version.pk])
    page = creator_client.get(url)
    from apps.scenarios.tests.test_admin import change_form_data

    data = change_form_data(page)
    prefix = "validation_rules"
    data.update(
        {
            f"{prefix}-TOTAL_FORMS": "1",
            f"{prefix}-0-check_type": "solution",
            f"{prefix}-0-machine_name": "attacker",
            f"{prefix}-0-run_as": "root",
            f"{prefix}-0-timeout_seconds": "30",
            f"{prefix}-0-position": "0",
            f"{prefix}-0-command": "echo hi",
            f"{prefix}-0-question_id": "nope",
        }
    )
    response = creator_client.post(url, data)
    assert response.status_code == 200
    assert "This version has no question &#x27;nope&#x27;." in response.content.decode()
    assert not version.validation_rules.exists()
    data[f"{prefix}-0-question_id"] = "q1"
    assert creator_client.post(url, data).status_code == 302
    assert version.validation_rules.get().question_id == "q1"


def test_bundles_carry_rules_and_a_new_version_inherits_them(creator):
    version = draft_version(creator=creator)
    services.validation_rule_add(version=version, actor=creator, **SOLUTION)
    services.validation_rule_add(
        version=version,
        actor=creator,
        check_type="reachable",
        machine_name="attacker",
        target_machine="attacker",
        port=22,
        expect_reachable=False,
    )
    data = bundle_export(version=version)
    report = scenario_import(actor=creator, data=data, filename="bundle.zip", new_version_of=version.scenario.slug)
    [imported] = report.versions
    rules = list(imported.validation_rules.values("check_type", "question_id", "expect_reachable", "port"))
    assert rules == [
        {"check_type": "solution", "question_id": "q1", "expect_reachable": True, "port": None},
        {"check_type": "reachable", "question_id": "", "expect_reachable": False, "port": 22},
    ]
    assert content_hash(imported) != "" and imported.validation_rules.count() == 2


def test_a_bundle_rule_naming_a_missing_machine_is_refused(creator):
    version = draft_version(creator=creator)
    services.validation_rule_add(version=version, actor=creator, **SOLUTION)
    raw = bundle_export(version=version)
    src = zipfile.ZipFile(io.BytesIO(raw))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            body = src.read(name)
            if name == "scenario.yaml":
                body = body.replace(b"machine_name: attacker", b"machine_name: ghost")
            dst.writestr(name, body)
    report = scenario_import(actor=creator, data=out.getvalue(), filename="bundle.zip")
    assert not report.versions
    text = str(report.as_dict())
    assert "validation_rules[0].machine_name" in text and "no machine named 'ghost'" in text


def test_a_ctfcli_healthcheck_becomes_a_command_rule(creator):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(
            "web/challenge.yml",
            "name: Healthy web\ncategory: web\ndescription: Find it.\nvalue: 100\ntype: standard\n"
            "image: rangex/busybox:latest\nprotocol: http\nflags:\n  - RX{healthy}\nhealthcheck: healthcheck.sh\n",
        )
        archive.writestr("web/healthcheck.sh", "#!/bin/sh\necho ok\nexit 0\n")
    report = scenario_import(actor=creator, data=out.getvalue(), filename="web.zip")
    [version] = report.versions
    rule = version.validation_rules.get()
    assert rule.check_type == AdminTestValidation.CheckType.COMMAND and rule.expected_exit_code == 0
    assert rule.machine_name == version.machines.get().name
    assert "echo ok" in rule.command and "RANGEX_HEALTHCHECK" in rule.command


def test_the_content_hash_changes_with_any_edit(creator):
    version = draft_version(creator=creator)
    first = content_hash(version)
    assert content_hash(version) == first
    services.validation_rule_add(version=version, actor=creator, **SOLUTION)
    second = content_hash(version)
    machine = version.machines.get()
    machine.ssh_password = "changed"
    services.scenario_version_component_save(version=version, actor=creator, obj=machine)
    third = content_hash(version)
    services.scenario_version_update(version=version, actor=creator, data={"mission_text": "Another mission."})
    version.refresh_from_db()
    assert len({first, second, third, content_hash(version)}) == 4


def test_the_gate_through_the_service_and_after_an_edit(admin_user):
    version = submitted_version()
    with pytest.raises(Conflict, match="never been test-deployed"):
        services.scenario_version_approve(version=version, actor=admin_user)
    passing_test_run(version)
    version = services.scenario_version_approve(version=version, actor=admin_user)
    # The content changes behind the run (a machine edited in place): the run no longer opens the gate.
    machine = version.machines.get()
    machine.memory_mb = 256
    machine.save(update_fields=["memory_mb"])
    with pytest.raises(Conflict, match="content changed since the last test deployment"):
        services.scenario_version_publish(version=version, actor=admin_user)


def test_the_gate_through_the_admin(admin_client_2fa):
    version = submitted_version()
    url = reverse("admin:scenarios_scenarioversion_workflow", args=[version.pk, "approve"])
    response = admin_client_2fa.post(url, follow=True)
    assert any("never been test-deployed" in str(m) for m in get_messages(response.wsgi_request))
    version.refresh_from_db()
    assert version.status == VersionStatus.SUBMITTED
    passing_test_run(version)
    admin_client_2fa.post(url)
    admin_client_2fa.post(reverse("admin:scenarios_scenarioversion_workflow", args=[version.pk, "publish"]))
    version.refresh_from_db()
    assert version.status == VersionStatus.PUBLISHED


def test_the_gate_through_the_api_and_the_setting_that_turns_it_off(admin_user):
    api = _token_client(admin_user)
    version = submitted_version()
    refused = api.post(f"/api/v1/review/versions/{version.pk}/approve/")
    assert refused.status_code == 409 and "never been test-deployed" in refused.json()["error"]["message"]
    passing_test_run(version)
    assert api.post(f"/api/v1/review/versions/{version.pk}/approve/").json()["status"] == VersionStatus.APPROVED
    assert api.post(f"/api/v1/review/versions/{version.pk}/publish/").json()["status"] == VersionStatus.PUBLISHED
    other = submitted_version()
    system_settings_update(actor=admin_user, publish_requires_test_run=False)
    invalidate_settings_cache()
    assert api.post(f"/api/v1/review/versions/{other.pk}/approve/").status_code == 200


def test_a_second_test_deploy_returns_the_running_one_and_solvers_cannot(admin_user, solver):
    version = submitted_version()
    api = _token_client(admin_user)
    # Not executed: the queued run stays pending, as while a worker runs it.
    first = api.post(f"/api/v1/review/versions/{version.pk}/test-deploy/", {"keep": False}, format="json")
    assert first.status_code == 202 and first.json()["status"] == "pending" and first.json()["current"]
    again = api.post(f"/api/v1/review/versions/{version.pk}/test-deploy/", {}, format="json")
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert version_test_deploy_request(version=version, actor=admin_user).pk == ScenarioVersionTestRun.objects.get().pk
    assert _token_client(solver).post(f"/api/v1/review/versions/{version.pk}/test-deploy/").status_code in (403, 404)
    detail = api.get(f"/api/v1/review/test-runs/{first.json()['id']}/")
    assert detail.status_code == 200 and detail.json()["version"] == str(version.pk)


def test_manual_sign_off_with_notes_is_the_last_admin_test(admin_user, admin_client_2fa):
    version = submitted_version()
    with pytest.raises(ValidationFailed):
        admin_test_sign_off(version=version, actor=admin_user, passed=True, notes=" ")
    response = admin_client_2fa.post(
        reverse("admin:scenarios_scenarioversionadmintest_add"),
        {"scenario_version": str(version.pk), "status": "passed", "summary": "Walked the route by hand."},
    )
    assert response.status_code == 302
    version.refresh_from_db()
    assert version.last_admin_test.summary == "Walked the route by hand."
    assert version.last_admin_test.created_by_admin == admin_user and version.last_admin_test.report_json["manual"]


def test_the_review_page_shows_the_latest_run(admin_client_2fa):
    version = submitted_version()
    diff = reverse("admin:scenarios_scenarioversion_diff", args=[version.pk])
    assert "never been test-deployed" in admin_client_2fa.get(diff).content.decode()
    run = passing_test_run(version)
    page = admin_client_2fa.get(diff).content.decode()
    assert reverse("admin:scenarios_scenarioversiontestrun_change", args=[run.pk]) in page and "passed" in page
    assert (
        admin_client_2fa.get(reverse("admin:scenarios_scenarioversiontestrun_change", args=[run.pk])).status_code == 200
    )


def test_the_version_page_has_a_test_deploy_button_for_admins_only(creator, creator_client, admin_client_2fa):
    version = submitted_version(creator=creator)
    change = reverse("admin:scenarios_scenarioversion_change", args=[version.pk])
    deploy = reverse("admin:scenarios_scenarioversion_test_deploy", args=[version.pk])
    assert b"rx-workflow-test-deploy" in admin_client_2fa.get(change).content
    assert b"rx-workflow-test-deploy" not in creator_client.get(change).content
    refused = creator_client.post(deploy, follow=True)
    assert any("Only admins" in str(m) for m in get_messages(refused.wsgi_request))
    assert not ScenarioVersionTestRun.objects.exists()
    # Queued (the task runs on commit, which this test's transaction never reaches): the run's page.
    response = admin_client_2fa.post(deploy, {"keep": "1"})
    run = ScenarioVersionTestRun.objects.get()
    assert response["Location"] == reverse("admin:scenarios_scenarioversiontestrun_change", args=[run.pk])
    assert run.keep and run.status == "pending"
    assert b"/ws/test-runs/" in admin_client_2fa.get(response["Location"]).content
