"""The demo seed publishes its scenarios through the workflow and changes nothing when run again."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from apps.images.models import ImageVariant
from apps.scenarios.models import Scenario, ScenarioVersion, VersionStatus
from apps.scenarios.services import scenario_version_validate

pytestmark = pytest.mark.django_db


def test_seed_demo_publishes_pivot_point_and_is_idempotent():
    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())

    assert set(ImageVariant.objects.values_list("image_ref", flat=True)) >= {
        "rangex/attacker:latest",
        "rangex/victim-web:latest",
        "rangex/pivot:latest",
        "rangex/desktop:latest",
    }
    assert ImageVariant.objects.count() == 4
    version = ScenarioVersion.objects.get(scenario__slug="pivot-point")
    assert version.status == VersionStatus.PUBLISHED and version.scenario.is_published
    assert version.scenario.created_by_user.email == "creator@rangex.local"
    assert version.approved_by_user.email == "admin@rangex.local"
    assert version.hint_mode == "penalty"
    machines = {m.name: m for m in version.machines.all()}
    assert set(machines) == {"attacker", "pivot", "victim-web"}
    assert machines["attacker"].allow_solver_entry and machines["attacker"].network_group == "dmz"
    assert machines["pivot"].is_pivot_host
    assert machines["victim-web"].network_group == "internal"
    assert machines["victim-web"].exposed_ports == [{"port": 80, "protocol": "tcp"}]
    assert [(p.source_network_group, p.target_network_group) for p in version.pivot_points.all()] == [
        ("dmz", "internal")
    ]
    flag = version.questions[0]
    assert (flag["dynamic"], flag["flag_machine"], flag["flag_path"]) == (True, "victim-web", "/srv/flag.txt")
    assert {q["type"] for q in version.questions} == {"flag", "single_choice", "numeric"}
    assert scenario_version_validate(version=version) == {}

    # Every question has a solution rule (run by test deployments, apps/environments/tests/test_demo_solvable.py).
    solutions = version.validation_rules.filter(check_type="solution")
    assert set(solutions.values_list("question_id", flat=True)) == {"q1", "q2", "q3"}
    assert version.validation_rules.filter(check_type="reachable", expect_reachable=False).exists()

    simple = ScenarioVersion.objects.get(scenario__slug="first-steps")
    assert set(simple.validation_rules.values_list("question_id", flat=True)) == {"q1", "q2", "q3"}
    assert simple.status == VersionStatus.PUBLISHED and simple.machines.count() == 1
    assert Scenario.objects.count() == 3 and ScenarioVersion.objects.count() == 3

    # Desktop Pivot: a desktop workstation whose Firefox reaches the intranet through the pivot.
    desktop = ScenarioVersion.objects.get(scenario__slug="desktop-pivot")
    assert desktop.status == VersionStatus.PUBLISHED
    machines = {m.name: m for m in desktop.machines.select_related("image_variant")}
    assert set(machines) == {"desktop", "pivot", "victim-web"}
    assert machines["desktop"].image_variant.has_gui and machines["desktop"].allow_solver_entry
    assert not machines["victim-web"].image_variant.has_gui
    assert machines["desktop"].network_group == "dmz" and machines["victim-web"].network_group == "internal"
    assert scenario_version_validate(version=desktop) == {}
