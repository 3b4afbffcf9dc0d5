"""Each session goes to the backend that started it, by its key, and pages offer what that backend can do."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.environments import selectors, services
from apps.environments.factories import pivot_version
from apps.environments.models import SessionNetworkTopology, SessionSecurityGroup, SessionStatus
from apps.ops import reconcile
from apps.runtime import MachineState, get_runtime
from apps.runtime.fake import FakeRuntime
from apps.runtime.tests.helpers import read_until
from rangex.core.errors import Conflict
from rangex.core.models import AuditLog

pytestmark = pytest.mark.django_db


class NoPauseRuntime(FakeRuntime):
    """The in-memory backend without pause, as a cloud backend may be."""

    name = "nopause"
    capabilities = dataclasses.replace(FakeRuntime.capabilities, can_pause=False)


FAKE = {"BACKEND": "apps.runtime.fake.FakeRuntime"}


@pytest.fixture(autouse=True)
def _fresh_fake():
    FakeRuntime.reset_all()
    yield
    FakeRuntime.reset_all()


def _start(user, captured):
    with captured(execute=True):
        session = services.env_session_start(user=user, version=pivot_version())
    session.refresh_from_db()
    return session


def test_a_session_keeps_using_the_backend_it_started_on(solver, settings, django_capture_on_commit_callbacks):
    settings.RANGEX_RUNTIMES = {"fake": FAKE}
    settings.RANGEX_DEFAULT_RUNTIME = "fake"
    session = _start(solver, django_capture_on_commit_callbacks)
    assert session.status == SessionStatus.RUNNING
    assert session.runtime_backend == "fake"
    fake = get_runtime("fake")
    described = fake.describe(str(session.pk))
    # What the launch made is on record: per-machine network ids and subnets, one group per network.
    groups = {g.network_group: g.security_group_id for g in SessionSecurityGroup.objects.filter(session=session)}
    assert groups == {name: handle.id for name, handle in described.networks.items()} and set(groups) == {
        "dmz",
        "internal",
    }
    for row in SessionNetworkTopology.objects.filter(session=session):
        assert row.network_id == described.networks[row.network_group].id
        assert row.subnet_id == (described.networks[row.network_group].subnet or None)

    # Docker becomes the default; the session still goes to the in-memory backend for everything.
    settings.RANGEX_DEFAULT_RUNTIME = "docker"
    assert {m.machine_name: m.status for m in selectors.env_session_machines_live(session=session)} == {
        "attacker": "running",
        "pivot": "running",
        "victim": "running",
    }
    services.env_session_pause(session=session, actor=solver)
    assert set(fake.status(str(session.pk)).values()) == {MachineState.PAUSED}
    services.env_session_resume(session=session, actor=solver)
    assert set(fake.status(str(session.pk)).values()) == {MachineState.RUNNING}
    grant = services.env_terminal_authorize(
        user=solver, session_id=session.pk, machine="attacker", token=session.gateway_session_token
    )
    terminal = services.env_terminal_open(grant=grant, cols=80, rows=24)
    try:
        terminal.write(b"echo on-the-$((20+22))-fake\n")
        read_until(terminal, b"on-the-42-fake")
    finally:
        terminal.close()
    # The sweep asks each backend about its own sessions: Docker knows nothing of this one and must not fail it.
    result = reconcile.orphans_sweep(now=timezone.now() + timedelta(minutes=30))
    assert result.sessions_failed == 0 and not result.errors
    session.refresh_from_db()
    assert session.status == SessionStatus.RUNNING
    with django_capture_on_commit_callbacks(execute=True):
        services.env_session_stop(session=session, actor=solver)
    session.refresh_from_db()
    assert session.status == SessionStatus.TERMINATED
    assert fake.status(str(session.pk)) == {}


def test_a_session_whose_backend_is_gone_is_shown_so_and_stops_with_a_warning(
    solver, admin_client_2fa, settings, django_capture_on_commit_callbacks
):
    settings.RANGEX_RUNTIMES = {"fake": FAKE}
    settings.RANGEX_DEFAULT_RUNTIME = "fake"
    session = _start(solver, django_capture_on_commit_callbacks)
    settings.RANGEX_DEFAULT_RUNTIME = "docker"
    settings.RANGEX_RUNTIMES = {}
    info = selectors.env_session_runtime_info(session=session)
    assert info["configured"] is False and "fake" in info["message"]
    # Pages still render (no Pause, no terminals), and the admin list says what is wrong.
    page = selectors.env_session_machines_live(session=session)
    assert len(page) == 3
    url = reverse("admin:environments_environmentsession_changelist")
    listing = admin_client_2fa.get(url)
    assert "fake: not configured here" in listing.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_2fa.post(
            url, {"action": "stop_sessions", "_selected_action": [str(session.pk)]}, follow=True
        )
    text = response.content.decode()
    assert "no longer configured" in text
    session.refresh_from_db()
    assert session.status == SessionStatus.TERMINATED
    audit = AuditLog.objects.get(action_type="session.terminated", target_id=str(session.pk))
    assert "fake" in audit.details["runtime_missing"]


def test_a_backend_that_cannot_pause_hides_the_pause_button(
    solver, solver_client, settings, django_capture_on_commit_callbacks
):
    settings.RANGEX_RUNTIMES = {"fake": FAKE, "nopause": {"BACKEND": f"{__name__}.NoPauseRuntime"}}
    settings.RANGEX_DEFAULT_RUNTIME = "fake"
    pausable = _start(solver, django_capture_on_commit_callbacks)
    page = solver_client.get(reverse("environments:detail", args=[pausable.pk])).content.decode()
    assert "bi-pause-fill" in page and "bi-stop-fill" in page
    with django_capture_on_commit_callbacks(execute=True):
        services.env_session_stop(session=pausable, actor=solver)

    settings.RANGEX_DEFAULT_RUNTIME = "nopause"
    session = _start(solver, django_capture_on_commit_callbacks)
    assert session.status == SessionStatus.RUNNING and session.runtime_backend == "nopause"
    page = solver_client.get(reverse("environments:detail", args=[session.pk])).content.decode()
    assert "bi-pause-fill" not in page and "bi-stop-fill" in page
    with pytest.raises(Conflict, match="cannot pause"):
        services.env_session_pause(session=session, actor=solver)
    session.refresh_from_db()
    assert session.status == SessionStatus.RUNNING


def test_no_session_ever_enters_the_error_state():
    from apps.environments.models import EnvironmentSession

    assert all(SessionStatus.ERROR not in targets for targets in EnvironmentSession.TRANSITIONS.values())
    assert EnvironmentSession.TRANSITIONS[SessionStatus.ERROR] == set()
