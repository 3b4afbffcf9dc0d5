"""A machine's ready check: the lab is running only once every machine is ready, never before."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from apps.accounts.factories import UserFactory
from apps.environments import services
from apps.environments.factories import pivot_version
from apps.environments.launch import build_launch_spec
from apps.environments.models import SessionStatus
from apps.runtime import ReadyCheck
from apps.scenarios.models import Machine
from tests.engine import docker_ids

pytestmark = pytest.mark.django_db

# The web server of the victim comes up a few seconds after the container starts, as a real one would.
SLOW_SERVER = ["sh", "-c", "sleep 3; while true; do nc -l -p 8080 </dev/null >/dev/null 2>&1; done"]


def _victim(version, **fields) -> Machine:
    victim = Machine.objects.get(scenario_version=version, name="victim")
    for name, value in fields.items():
        setattr(victim, name, value)
    victim.full_clean()
    victim.save()
    return victim


def _start(version, captured):
    with captured(execute=True):
        session = services.env_session_start(user=UserFactory(), version=version)
    session.refresh_from_db()
    return session


def test_the_lab_is_running_only_once_the_slow_server_listens(
    runtime, settings, cleanup_sessions, django_capture_on_commit_callbacks
):
    settings.RANGEX_RUNTIMES = {}
    version = pivot_version()
    _victim(version, entrypoints=SLOW_SERVER, ready_check={"port": 8080, "timeout": 60})
    session = _start(version, django_capture_on_commit_callbacks)
    cleanup_sessions.append(session.pk)
    assert session.status == SessionStatus.RUNNING, session.reason_stopped
    # At the moment the session says running, the server is already listening.
    listening = runtime.run_command(str(session.pk), "victim", ["netstat", "-ltn"]).output.decode()
    assert ":8080" in listening


def test_a_machine_that_never_gets_ready_fails_the_lab_and_leaves_nothing(
    runtime, settings, django_capture_on_commit_callbacks
):
    settings.RANGEX_RUNTIMES = {}
    version = pivot_version()
    _victim(version, ready_check={"command": "test -f /never-there", "timeout": 2})
    session = _start(version, django_capture_on_commit_callbacks)
    assert session.status == SessionStatus.FAILED
    assert "victim" in session.reason_stopped and "ready" in session.reason_stopped.lower()
    assert docker_ids("container", str(session.pk)) == [] and docker_ids("network", str(session.pk)) == []


def test_the_launch_spec_carries_the_check_and_the_image_default_applies():
    version = pivot_version()
    _victim(version, ready_check={"command": "test -f /srv/ready", "timeout": 30})
    attacker = Machine.objects.get(scenario_version=version, name="attacker")
    attacker.image_variant.default_healthcheck = {"port": 22}
    attacker.image_variant.save(update_fields=["default_healthcheck"])
    session = services.env_session_start(user=UserFactory(), version=version)
    spec = {m.name: m for m in build_launch_spec(session).machines}
    assert spec["victim"].ready_check == ReadyCheck(command=("sh", "-c", "test -f /srv/ready"), timeout=30.0)
    # Every machine of this version shares the variant, so its default applies where no check is set.
    assert spec["attacker"].ready_check == ReadyCheck(port=22)
    assert spec["pivot"].ready_check == ReadyCheck(port=22)


@pytest.mark.parametrize(
    "value,message",
    [
        ("port 80", "Give an object"),
        ({"port": 80, "command": "true"}, "either a port or a command"),
        ({}, None),
        ({"port": 0}, "from 1 to 65535"),
        ({"port": True}, "from 1 to 65535"),
        ({"command": []}, "text or a list of words"),
        ({"command": "true", "timeout": 0}, "from 1 to 600"),
        ({"command": "true", "every": 1}, "Unknown key(s): every"),
        ({"port": 8080, "timeout": 90}, None),
    ],
)
def test_a_ready_check_is_validated_with_a_clear_message(value, message):
    version = pivot_version()
    victim = Machine.objects.get(scenario_version=version, name="victim")
    victim.ready_check = value
    if message is None:
        victim.full_clean()
        return
    with pytest.raises(ValidationError) as refused:
        victim.full_clean()
    assert message in str(refused.value.message_dict["ready_check"])
