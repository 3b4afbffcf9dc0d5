"""The session lifecycle on the real Docker engine: start, limits, topology, answers, pause, stop, failures."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from apps.accounts.factories import UserFactory
from apps.environments import services
from apps.environments.factories import STATIC_FLAG, pivot_version
from apps.environments.launch import session_flags
from apps.environments.models import EnvironmentSession, FlagShareSuspicion, SessionStatus
from apps.environments.tests.helpers import run_in
from apps.scenarios.factories import passing_test_run
from rangex.core.errors import Conflict, InvalidTransition, LimitExceeded, NotFound, ServiceUnavailable
from rangex.core.system import maintenance_set, system_settings_update

pytestmark = pytest.mark.django_db


def start(user, version, captured, cleanup):
    with captured(execute=True):
        session = services.env_session_start(user=user, version=version, client_ip="10.9.8.7", user_agent="pytest")
    cleanup.append(session.pk)
    session.refresh_from_db()
    return session


@pytest.fixture
def version(runtime):
    return pivot_version()


def test_start_runs_every_machine_and_records_the_client(
    solver, version, django_capture_on_commit_callbacks, cleanup_sessions, runtime
):
    session = start(solver, version, django_capture_on_commit_callbacks, cleanup_sessions)
    assert session.status == SessionStatus.RUNNING
    assert session.client_ip == "10.9.8.7" and session.client_user_agent == "pytest"
    assert session.runtime_backend == "docker"
    assert len(session.gateway_session_token) >= 40
    assert runtime.status(str(session.pk)) == {"attacker": "running", "pivot": "running", "victim": "running"}
    assert {m.machine_name: m.status for m in session.machines.all()} == {
        "attacker": "running",
        "pivot": "running",
        "victim": "running",
    }
    groups = {(t.machine_name, t.network_group) for t in session.topology.all()}
    assert groups == {("attacker", "dmz"), ("pivot", "dmz"), ("pivot", "internal"), ("victim", "internal")}


def test_dynamic_flag_is_written_only_into_its_machine_and_accepted_only_in_its_session(
    solver, version, django_capture_on_commit_callbacks, cleanup_sessions
):
    session = start(solver, version, django_capture_on_commit_callbacks, cleanup_sessions)
    other = start(UserFactory(), version, django_capture_on_commit_callbacks, cleanup_sessions)
    flag = session_flags(session)["q2"]
    assert run_in(session, "victim", "cat /srv/flag.txt").strip() == flag
    assert flag not in run_in(session, "victim", "env")
    assert "No such file" in run_in(session, "attacker", "cat /srv/flag.txt 2>&1")

    # Another session's flag is wrong here, and recorded as suspected sharing.
    result = services.env_session_submit_answer(session=other, actor=other.user, question_id="q2", answer=flag)
    assert result["state"]["correct"] is False
    assert FlagShareSuspicion.objects.filter(session=other, owner_session=session, question_id="q2").exists()

    result = services.env_session_submit_answer(session=session, actor=solver, question_id="q2", answer=flag)
    assert result["state"]["correct"] is True and result["score"] == 20


def test_answers_score_hints_and_completion(solver, version, django_capture_on_commit_callbacks, cleanup_sessions):
    session = start(solver, version, django_capture_on_commit_callbacks, cleanup_sessions)
    hint = services.env_session_take_hint(session=session, actor=solver, hint_id="h1")
    assert hint["cost"] == 4 and "mission" in hint["text"]
    services.env_session_submit_answer(session=session, actor=solver, question_id="q1", answer="RX{nope}")
    result = services.env_session_submit_answer(session=session, actor=solver, question_id="q1", answer=STATIC_FLAG)
    assert result["state"]["earned_points"] == 6 and result["state"]["attempts_made"] == 2
    services.env_session_submit_answer(session=session, actor=solver, question_id="q3", answer=0)
    with pytest.raises(Conflict, match="no attempts left"):
        services.env_session_submit_answer(session=session, actor=solver, question_id="q3", answer=1)
    flag = session_flags(session)["q2"]
    final = services.env_session_submit_answer(session=session, actor=solver, question_id="q2", answer=flag)
    session.refresh_from_db()
    assert final["completed"] is True and session.completed_at is not None
    assert session.score == 26
    with pytest.raises(NotFound):
        services.env_session_submit_answer(session=session, actor=solver, question_id="q9", answer="x")


def test_pause_and_resume_keep_the_remaining_time(
    solver, version, django_capture_on_commit_callbacks, cleanup_sessions, runtime
):
    session = start(solver, version, django_capture_on_commit_callbacks, cleanup_sessions)
    now = timezone.now()
    session.expires_at = now + timedelta(minutes=40)
    session.save(update_fields=["expires_at"])
    with time_machine.travel(now, tick=False):
        session = services.env_session_pause(session=session, actor=solver)
    assert session.paused_remaining_seconds == 40 * 60
    assert set(runtime.status(str(session.pk)).values()) == {"paused"}
    with time_machine.travel(now + timedelta(hours=3), tick=False):
        session = services.env_session_resume(session=session, actor=solver)
        assert session.expires_at == timezone.now() + timedelta(minutes=40)
    assert set(runtime.status(str(session.pk)).values()) == {"running"}
    with pytest.raises(InvalidTransition):
        services.env_session_resume(session=session, actor=solver)


def test_extend_is_capped_by_the_maximum_duration(
    solver, version, django_capture_on_commit_callbacks, cleanup_sessions
):
    session = start(solver, version, django_capture_on_commit_callbacks, cleanup_sessions)
    system_settings_update(actor=None, max_session_duration_minutes=70)
    session = services.env_session_extend(session=session, actor=solver, minutes=30)
    assert session.expires_at <= session.started_at + timedelta(minutes=70)
    with pytest.raises(LimitExceeded) as exc:
        services.env_session_extend(session=session, actor=solver, minutes=30)
    assert exc.value.limit == "max_session_duration_minutes"


def test_stop_removes_every_container_and_network(
    solver, version, django_capture_on_commit_callbacks, cleanup_sessions, runtime
):
    session = start(solver, version, django_capture_on_commit_callbacks, cleanup_sessions)
    with django_capture_on_commit_callbacks(execute=True):
        services.env_session_stop(session=session, actor=solver)
    session.refresh_from_db()
    assert session.status == SessionStatus.TERMINATED and session.ended_at is not None
    assert [r for r in runtime.list_managed() if r.session_id == str(session.pk)] == []
    with pytest.raises(InvalidTransition):
        services.env_session_stop(session=session, actor=solver)


def test_a_failed_launch_leaves_nothing_behind(solver, django_capture_on_commit_callbacks, cleanup_sessions, runtime):
    version = pivot_version()
    victim = version.machines.get(name="victim")
    # An image the engine does not have: the launch fails after the other machines were created.
    victim.image_variant.image_ref = "rangex/does-not-exist:never"
    victim.image_variant.save(update_fields=["image_ref"])
    session = start(solver, version, django_capture_on_commit_callbacks, cleanup_sessions)
    assert session.status == SessionStatus.FAILED
    assert "could not start" in session.reason_stopped
    assert [r for r in runtime.list_managed() if r.session_id == str(session.pk)] == []


def test_a_retried_launch_adopts_what_a_killed_worker_left(
    solver, version, django_capture_on_commit_callbacks, cleanup_sessions, runtime
):
    from apps.environments.launch import build_launch_spec

    # The worker died after creating the containers but before recording them: the session is still starting.
    session = services.env_session_start(user=solver, version=version)
    cleanup_sessions.append(session.pk)
    runtime.launch(build_launch_spec(session))
    services.env_session_provision(session_id=session.pk)
    session.refresh_from_db()
    assert session.status == SessionStatus.RUNNING
    containers = [r for r in runtime.list_managed() if r.session_id == str(session.pk) and r.kind == "container"]
    assert sorted(r.machine for r in containers) == ["attacker", "pivot", "victim"]


def test_limits_refuse_with_the_name_of_the_limit(
    solver, version, django_capture_on_commit_callbacks, cleanup_sessions
):
    system_settings_update(actor=None, max_sessions_per_user=1)
    start(solver, version, django_capture_on_commit_callbacks, cleanup_sessions)
    second = pivot_version()
    with pytest.raises(LimitExceeded) as exc:
        services.env_session_start(user=solver, version=second)
    assert exc.value.limit == "max_sessions_per_user"

    poor = UserFactory()
    poor.budget_limit_rm = 1
    poor.budget_spent_rm = 1
    poor.save(update_fields=["budget_limit_rm", "budget_spent_rm"])
    with pytest.raises(LimitExceeded) as exc:
        services.env_session_start(user=poor, version=second)
    assert exc.value.limit == "budget_limit_rm"

    full = pivot_version(max_players=1)
    start(UserFactory(), full, django_capture_on_commit_callbacks, cleanup_sessions)
    with pytest.raises(LimitExceeded) as exc:
        services.env_session_start(user=UserFactory(), version=full)
    assert exc.value.limit == "max_concurrent_players"

    system_settings_update(actor=None, max_total_containers=3, docker_max_containers=3)
    with pytest.raises(LimitExceeded) as exc:
        services.env_session_start(user=UserFactory(), version=second)
    assert exc.value.limit == "max_total_containers"


def test_hourly_limit(solver, version):
    system_settings_update(actor=None, max_sessions_per_hour=1)
    session = services.env_session_start(user=solver, version=version)
    EnvironmentSession.objects.filter(pk=session.pk).update(status=SessionStatus.TERMINATED)
    with pytest.raises(LimitExceeded) as exc:
        services.env_session_start(user=solver, version=version)
    assert exc.value.limit == "max_sessions_per_hour"


def test_maintenance_mode_refuses_solvers(solver, version, admin_user):
    maintenance_set(actor=admin_user, enabled=True, message="Back soon")
    with pytest.raises(ServiceUnavailable):
        services.env_session_start(user=solver, version=version)


def test_another_users_session_is_not_found(solver, version):
    session = services.env_session_start(user=solver, version=version)
    stranger = UserFactory()
    with pytest.raises(NotFound):
        services.env_session_submit_answer(session=session, actor=stranger, question_id="q1", answer="x")
    with pytest.raises(NotFound):
        services.env_session_stop(session=session, actor=stranger)


@pytest.mark.django_db(transaction=True)
def test_twenty_parallel_starts_give_one_session(runtime):
    version = pivot_version()
    user = UserFactory()
    results, errors = [], []
    barrier = threading.Barrier(20)

    def click():
        try:
            barrier.wait()
            results.append(services.env_session_start(user=user, version=version).pk)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=click) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert errors == []
        assert len(set(results)) == 1
        assert EnvironmentSession.objects.filter(user=user).count() == 1
        session = EnvironmentSession.objects.get(user=user)
        assert session.status == SessionStatus.RUNNING
        containers = [r for r in runtime.list_managed() if r.session_id == str(session.pk) and r.kind == "container"]
        assert len(containers) == 3
    finally:
        for pk in set(results):
            runtime.stop(str(pk))


def test_a_container_that_dies_shows_on_the_page(
    solver, version, django_capture_on_commit_callbacks, cleanup_sessions, runtime, client
):
    session = start(solver, version, django_capture_on_commit_callbacks, cleanup_sessions)
    victim = session.machines.get(machine_name="victim")
    runtime.remove_resource("container", victim.task_arn)
    client.force_login(solver)
    response = client.get(f"/sessions/{session.pk}/status/")
    assert response.status_code == 200
    assert b"missing" in response.content
    # A page never writes (architecture issue): the row is recorded by the service the sweep runs.
    services.env_session_refresh_machines(session=session)
    victim.refresh_from_db()
    assert victim.status == "missing"
    session.refresh_from_db()
    assert session.status == SessionStatus.RUNNING


def test_session_pages_and_api_are_owner_only(
    solver, version, django_capture_on_commit_callbacks, cleanup_sessions, client
):
    session = start(solver, version, django_capture_on_commit_callbacks, cleanup_sessions)
    client.force_login(UserFactory())
    assert client.get(f"/sessions/{session.pk}/").status_code == 404
    assert client.get(f"/api/v1/sessions/{session.pk}/").status_code == 404
    client.force_login(solver)
    page = client.get(f"/sessions/{session.pk}/")
    assert page.status_code == 200
    # The page's script opens a terminal for each machine this list names (terminals.js).
    assert b'<script id="terminal-machines" type="application/json">["attacker", "pivot"]</script>' in page.content
    assert STATIC_FLAG.encode() in page.content  # the mission text says it
    detail = client.get(f"/api/v1/sessions/{session.pk}/").json()
    assert detail["status"] == "running" and {m["name"] for m in detail["machines"]} == {"attacker", "pivot", "victim"}
    bad = client.post(f"/api/v1/sessions/{session.pk}/answers/", {"answer": "x"}, content_type="application/json")
    assert bad.status_code == 400
    unknown = client.post(
        f"/api/v1/sessions/{session.pk}/answers/",
        {"question_id": "nope", "answer": "x"},
        content_type="application/json",
    )
    assert unknown.status_code == 404
    ok = client.post(
        f"/api/v1/sessions/{session.pk}/answers/",
        {"question_id": "q1", "answer": STATIC_FLAG},
        content_type="application/json",
    )
    assert ok.status_code == 200 and ok.json()["state"]["correct"] is True
    paused = client.post(f"/api/v1/sessions/{session.pk}/pause/")
    assert paused.status_code == 200 and paused.json()["status"] == "paused"
    again = client.post(f"/api/v1/sessions/{session.pk}/pause/")
    assert again.status_code == 409


def test_a_running_session_stays_pinned_to_its_version(
    solver, version, django_capture_on_commit_callbacks, cleanup_sessions, admin_user
):
    from apps.scenarios import services as scenario_services

    session = start(solver, version, django_capture_on_commit_callbacks, cleanup_sessions)
    creator = version.scenario.created_by_user
    newer = scenario_services.scenario_version_new(source=version, actor=creator)
    scenario_services.scenario_version_update(
        version=newer, actor=creator, data={"questions": [dict(q, points=99) for q in version.questions]}
    )
    newer = scenario_services.scenario_version_submit(version=newer, actor=creator)
    passing_test_run(newer)
    newer = scenario_services.scenario_version_approve(version=newer, actor=admin_user)
    scenario_services.scenario_version_publish(version=newer, actor=admin_user)
    version.refresh_from_db()
    assert version.status == "ARCHIVED"
    result = services.env_session_submit_answer(session=session, actor=solver, question_id="q1", answer=STATIC_FLAG)
    assert result["state"]["earned_points"] == 10
    with pytest.raises(Conflict):
        services.env_session_start(user=UserFactory(), version=version)


def test_engine_down_fails_the_session_with_a_clear_reason(
    solver, version, django_capture_on_commit_callbacks, settings
):
    # The engine goes away between the start (which found it answering) and the launch.
    with django_capture_on_commit_callbacks() as callbacks:
        session = services.env_session_start(user=solver, version=version)
    settings.RANGEX_DOCKER_URL = "unix:///tmp/rangex-no-such-docker.sock"
    for callback in callbacks:
        callback()
    session.refresh_from_db()
    assert session.status == SessionStatus.FAILED
    assert "could not start" in session.reason_stopped and "unreachable" in session.reason_stopped
    # Already down at the start, it is refused at once: test_machine_settings.py.


def test_the_session_pages_read_the_engine_but_never_write(
    solver, solver_client, version, django_capture_on_commit_callbacks, cleanup_sessions, runtime
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    session = start(solver, version, django_capture_on_commit_callbacks, cleanup_sessions)
    runtime.client.containers.get(runtime.resource_name(str(session.pk), "victim")).stop(timeout=0)

    with CaptureQueriesContext(connection) as queries:
        detail = solver_client.get(f"/sessions/{session.pk}/")
        status = solver_client.get(f"/sessions/{session.pk}/status/")

    writes = [
        q["sql"] for q in queries
        if q["sql"].split()[0].upper() in ("INSERT", "UPDATE", "DELETE") and "environment_" in q["sql"]
    ]  # fmt: skip
    assert detail.status_code == status.status_code == 200
    assert writes == []
    assert "exited" in status.content.decode()
    assert session.machines.get(machine_name="victim").status == "running"  # recorded by the sweep, not the page
