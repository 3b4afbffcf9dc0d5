"""Submit validation: each rule gives a clear message on the field it is about."""

from __future__ import annotations

import pytest

from apps.images.factories import image_variant
from apps.images.models import PlatformImage, RegistryCredential
from apps.scenarios import services
from apps.scenarios.factories import draft_version
from apps.scenarios.models import VersionStatus
from apps.scenarios.validation import is_local_registry, registry_host
from rangex.core.errors import ValidationFailed

pytestmark = pytest.mark.django_db


def _errors(version):
    return services.scenario_version_validate(version=version)


def test_a_complete_version_has_no_errors():
    assert _errors(draft_version()) == {}


def test_submit_rejects_version_without_mission_and_keeps_it_draft():
    version = draft_version(mission_text="  ")
    with pytest.raises(ValidationFailed) as exc:
        services.scenario_version_submit(version=version, actor=version.scenario.created_by_user)
    assert exc.value.fields["mission_text"] == ["Write the mission: it is what solvers read first."]
    version.refresh_from_db()
    assert version.status == VersionStatus.DRAFT and version.submitted_at is None


def test_submit_rejects_challenge_without_questions():
    errors = _errors(draft_version(questions=[], hints=[]))
    assert "at least one question" in errors["questions"][0]


def test_open_lab_needs_no_questions():
    assert _errors(draft_version(scenario_type="open_lab", questions=[], hints=[])) == {}


def test_question_ids_and_types_are_checked():
    questions = [
        {"id": "q1", "type": "essay", "prompt": "?", "points": 1},
        {"id": "q1", "type": "flag", "prompt": "?", "points": 1, "answer": "x", "match": "exact"},
        {"type": "flag", "prompt": "?", "points": 1, "answer": "x", "match": "exact"},
    ]
    errors = _errors(draft_version(questions=questions, hints=[]))
    assert "questions[0].type" in errors
    assert any("'q1'" in m for m in errors["questions[1].id"])
    assert "questions[2].id" in errors


def test_hints_must_point_to_existing_questions():
    errors = _errors(draft_version(hints=[{"id": "h1", "question_id": "q9", "text": "t", "cost": 0}]))
    assert errors["hints[0].question_id"]


def _dynamic_flag(machine: str, path: str) -> dict:
    return {
        "id": "q1",
        "type": "flag",
        "prompt": "?",
        "points": 5,
        "match": "exact",
        "answer": "",
        "dynamic": True,
        "flag_machine": machine,
        "flag_path": path,
    }


def test_dynamic_flag_names_an_existing_machine_and_absolute_path():
    question = _dynamic_flag("nowhere", "flag.txt")
    errors = _errors(draft_version(questions=[question], hints=[]))
    assert "questions[0].flag_machine" in errors and "questions[0].flag_path" in errors


def test_machines_required_and_one_must_allow_solver_entry():
    assert "machines" in _errors(draft_version(machines=[]))
    errors = _errors(draft_version(machines=[{"name": "victim", "role": "victim", "allow_solver_entry": False}]))
    assert any("solver entry" in m for m in errors["machines"])
    assert _errors(draft_version(machines=[], requires_machines=False)) == {}


def test_machine_must_resolve_to_an_image():
    errors = _errors(
        draft_version(
            machines=[
                {"name": "a", "image_variant": None},
                {"name": "b", "image_source_type": "platform", "image_variant": None},
                {"name": "c", "image_source_type": "custom", "image_variant": None},
            ]
        )
    )
    assert "machines[0].image_variant" in errors
    assert "machines[1].platform_image" in errors
    assert "machines[2].image_ref" in errors


def test_inactive_images_are_refused():
    platform = PlatformImage.objects.create(label="Old", image_ref="rangex/old:1", is_active=False)
    errors = _errors(
        draft_version(
            machines=[
                {"name": "a", "image_variant": image_variant(is_active=False)},
                {"name": "b", "image_source_type": "platform", "image_variant": None, "platform_image": platform},
            ]
        )
    )
    assert "machines[0].image_variant" in errors and "machines[1].platform_image" in errors


def test_custom_image_from_a_remote_registry_needs_a_matching_credential():
    base = {"image_source_type": "custom", "image_variant": None}
    assert _errors(draft_version(machines=[{"name": "a", "image_ref": "localhost:5000/lab/web:1", **base}])) == {}
    assert _errors(draft_version(machines=[{"name": "a", "image_ref": "nginx:1.27", **base}])) == {}
    errors = _errors(draft_version(machines=[{"name": "a", "image_ref": "ghcr.io/acme/web:1", **base}]))
    assert "ghcr.io" in errors["machines[0].registry_credential"][0]
    wrong = RegistryCredential.objects.create(
        label="Docker Hub", registry_url="https://registry.example.com", username_enc="u", password_or_token_enc="p"
    )
    errors = _errors(
        draft_version(machines=[{"name": "a", "image_ref": "ghcr.io/acme/web:1", "registry_credential": wrong, **base}])
    )
    assert "registry.example.com" in errors["machines[0].registry_credential"][0]
    right = RegistryCredential.objects.create(
        label="GHCR", registry_url="ghcr.io", username_enc="u", password_or_token_enc="p"
    )
    assert (
        _errors(
            draft_version(
                machines=[{"name": "a", "image_ref": "ghcr.io/acme/web:1", "registry_credential": right, **base}]
            )
        )
        == {}
    )


@pytest.mark.parametrize(
    ("ref", "host", "local"),
    [
        ("nginx", None, True),
        ("library/nginx:1", None, True),
        ("localhost/x:1", "localhost", True),
        ("127.0.0.1:5000/x", "127.0.0.1:5000", True),
        ("ghcr.io/a/b:1", "ghcr.io", False),
        ("registry:5000/a", "registry:5000", False),
    ],
)
def test_registry_host_follows_docker_rules(ref, host, local):
    assert registry_host(ref) == host
    assert is_local_registry(host) is local


def test_pivot_points_name_groups_that_exist():
    version = draft_version(machines=[{"name": "a", "network_group": "dmz", "is_pivot_host": True}])
    services.pivot_point_add(version=version, actor=version.scenario.created_by_user, source="dmz", target="internal")
    errors = _errors(version)
    assert errors == {
        "pivot_points[0].target_network_group": [
            "No machine is on the network 'internal'; put a machine on it or remove this pivot point."
        ]
    }


def test_a_pivot_point_needs_a_machine_on_both_networks():
    version = draft_version(
        machines=[
            {"name": "attacker", "network_group": "dmz", "allow_solver_entry": True},
            {"name": "web", "network_group": "internal", "allow_solver_entry": False},
        ]
    )
    services.pivot_point_add(version=version, actor=version.scenario.created_by_user, source="dmz", target="internal")
    errors = _errors(version)
    assert "No machine is on both 'dmz' and 'internal'" in errors["pivot_points[0].source_network_group"][0]
    assert "which no machine solvers enter can reach" in errors["machines[1].network_group"][0]
    version.machines.filter(name="attacker").update(is_pivot_host=True)
    assert _errors(version) == {}


def test_a_machine_no_entry_machine_can_reach_is_refused():
    version = draft_version(
        machines=[
            {"name": "attacker", "network_group": "dmz", "allow_solver_entry": True},
            {"name": "island", "network_group": "elsewhere", "allow_solver_entry": False},
        ]
    )
    errors = _errors(version)
    assert list(errors) == ["machines[1].network_group"]
    assert "'island' is on the network 'elsewhere'" in errors["machines[1].network_group"][0]


def test_unknown_resource_profile_and_egress_policy_are_refused_when_saved():
    with pytest.raises(ValidationFailed) as exc:
        draft_version(machines=[{"name": "a", "resource_profile": "huge", "network_egress_policy": "everywhere"}])
    assert "resource_profile" in exc.value.fields and "network_egress_policy" in exc.value.fields


def test_submit_reports_every_field_at_once():
    version = draft_version(mission_text="", questions=[], hints=[], machines=[])
    with pytest.raises(ValidationFailed) as exc:
        services.scenario_version_submit(version=version, actor=version.scenario.created_by_user)
    assert {"mission_text", "questions", "machines"} <= set(exc.value.fields)


def test_requirements_in_metadata_must_be_a_list_of_other_scenarios_slugs(db):
    from apps.scenarios.factories import draft_version
    from apps.scenarios.validation import version_errors

    version = draft_version(metadata={"requirements": {"prerequisites": ["ok-slug", "bad slug!"]}})
    assert "metadata.requirements.prerequisites" in version_errors(version)
    version.metadata = {"requirements": {"prerequisites": [version.scenario.slug]}}
    assert version_errors(version) == {"metadata.requirements.prerequisites": ["A scenario cannot require itself."]}
    version.metadata = {"requirements": {"prerequisites": ["warmup"], "anonymize": True}}
    assert version_errors(version) == {}


def test_a_read_only_machine_cannot_be_given_files_a_login_or_a_desktop():
    flag = _dynamic_flag("web", "/srv/flag.txt")
    desktop = image_variant(display_name="Desktop", has_gui=True)
    version = draft_version(
        questions=[flag],
        hints=[],
        machines=[
            {"name": "attacker"},
            {"name": "web", "role": "victim", "read_only_root": True, "ssh_username": "player"},
            {"name": "desk", "role": "attacker", "read_only_root": True, "image_variant": desktop},
            {"name": "plain", "role": "victim", "read_only_root": True},
        ],
    )
    errors = _errors(version)
    # Machines are checked in order of sort order, then name: attacker, desk, plain, web.
    web = " ".join(errors["machines[3].read_only_root"])
    assert "/srv/flag.txt" in web and "files before start" in web and "SSH login" in web
    assert "desktop" in " ".join(errors["machines[1].read_only_root"])
    assert "machines[2].read_only_root" not in errors  # 'plain': read-only, nothing written into it
