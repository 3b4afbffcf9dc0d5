"""A Docker Compose file imported as a scenario launches on the real engine with the reachability it declares."""

from __future__ import annotations

from pathlib import Path

import pytest

from apps.accounts.factories import AdminFactory
from apps.environments import services
from apps.environments.models import SessionStatus
from apps.scenarios import services as scenario_services
from apps.scenarios.factories import passing_test_run
from apps.scenarios.imports import scenario_import
from tests.engine import can_connect, docker_json

COMPOSE_LAB = Path(__file__).resolve().parents[2] / "scenarios" / "tests" / "data" / "compose-lab"


@pytest.fixture
def compose_version(creator, test_image):
    report = scenario_import(actor=creator, data=COMPOSE_LAB, filename="compose-lab")
    [version] = report.versions
    admin = AdminFactory()
    version = scenario_services.scenario_version_submit(version=version, actor=creator)
    passing_test_run(version)
    version = scenario_services.scenario_version_approve(version=version, actor=admin)
    return scenario_services.scenario_version_publish(version=version, actor=admin)


def test_imported_compose_topology_has_the_reachability_of_the_compose_file(
    compose_version, solver, django_capture_on_commit_callbacks, cleanup_sessions
):
    assert compose_version.docker_compose_path == "docker-compose.yml"
    assert {m.name: m.network_group for m in compose_version.machines.all()}["target"] == "internal-net"
    with django_capture_on_commit_callbacks(execute=True):
        session = services.env_session_start(user=solver, version=compose_version)
    cleanup_sessions.append(session.pk)
    session.refresh_from_db()
    assert session.status == SessionStatus.RUNNING, session.reason_stopped
    container = {m.machine_name: m.task_arn for m in session.machines.all()}
    # jump is on dmz and internal_net (a pivot); target only on internal_net (internal: true); outside only on dmz.
    assert can_connect(container["jump"], "target") and can_connect(container["jump"], "outside")
    assert not can_connect(container["outside"], "target")
    assert not can_connect(container["target"], "outside")
    # Not by address either: the networks themselves are apart, not just the names.
    target_ip = next(iter(docker_json("inspect", container["target"])[0]["NetworkSettings"]["Networks"].values()))
    assert can_connect(container["jump"], target_ip["IPAddress"])
    assert not can_connect(container["outside"], target_ip["IPAddress"])
