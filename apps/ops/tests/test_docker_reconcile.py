"""Reconciliation and health checks against the real Docker engine."""

import uuid
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from apps.accounts.factories import UserFactory
from apps.environments import services as env_services
from apps.environments.factories import TEST_IMAGE, pivot_version
from apps.environments.models import SessionStatus
from apps.ops import health, reconcile
from apps.ops.models import HealthCheck, OrphanedTaskLog
from apps.ops.tests.helpers import running_session, starting_session
from apps.runtime.docker import DockerRuntime

pytestmark = pytest.mark.django_db


def _rogue_container(runtime, session_id="00000000-0000-4000-8000-000000000000"):
    """Start a container labelled as ours behind RangeX's back."""
    return runtime.client.containers.run(
        TEST_IMAGE,
        ["sleep", "300"],
        detach=True,
        name=f"rx-{settings.RANGEX_INSTANCE}-rogue-{uuid.uuid4().hex[:12]}",
        labels={
            "rangex.instance": settings.RANGEX_INSTANCE,
            "rangex.managed": "1",
            "rangex.session": session_id,
            "rangex.machine": "rogue",
        },
    )


def _exists(runtime, cid) -> bool:
    # The low-level call inspects nothing, so containers of parallel test runs vanishing cannot break it.
    return bool(runtime.api.containers(all=True, filters={"id": cid}))


def test_container_started_behind_our_back_is_removed_after_grace_and_logged(runtime):
    # Labs of earlier tests in this worker whose session rows were rolled back are orphans of this
    # namespace too: sweep them first, so the counts below are the rogue's alone.
    reconcile.orphans_sweep(now=timezone.now() + timedelta(days=1))
    rogue = _rogue_container(runtime)
    try:
        result = reconcile.orphans_sweep()
        assert result.orphans_found == 0 and _exists(runtime, rogue.id)
        dry = reconcile.orphans_sweep(dry_run=True, now=timezone.now() + timedelta(minutes=30))
        assert dry.orphans_found == 1 and dry.orphans_removed == 0 and _exists(runtime, rogue.id)
        result = reconcile.orphans_sweep(now=timezone.now() + timedelta(minutes=30))
        assert result.orphans_removed == 1
        assert not _exists(runtime, rogue.id)
        log = OrphanedTaskLog.objects.get(task_arn=rogue.id, status=OrphanedTaskLog.Status.TERMINATED)
        assert log.running_minutes >= 29 and log.estimated_cost > 0 and log.terminated_at
        assert reconcile.orphans_sweep(now=timezone.now() + timedelta(minutes=30)).orphans_found == 0
    finally:
        if _exists(runtime, rogue.id):
            rogue.remove(force=True)


def test_session_whose_container_was_removed_behind_our_back_is_failed(
    runtime, cleanup_sessions, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        session = env_services.env_session_start(user=UserFactory(), version=pivot_version())
    cleanup_sessions.append(session.pk)
    session.refresh_from_db()
    assert session.status == SessionStatus.RUNNING
    healthy = reconcile.orphans_sweep(max_writable_bytes=1)
    assert healthy.sessions_failed == 0 and healthy.orphans_found == 0
    # The flag file written into the victim makes its writable layer larger than one byte.
    assert {"session_id": str(session.pk), "machine": "victim"}.items() <= next(
        o for o in healthy.oversized if o["machine"] == "victim"
    ).items()
    assert HealthCheck.objects.filter(check_type="oversized", status="warning").exists()
    victim = session.machines.get(machine_name="victim")
    runtime.client.containers.get(victim.task_arn).remove(force=True)
    later = timezone.now() + timedelta(minutes=30)
    result = reconcile.orphans_sweep(now=later)
    assert result.sessions_failed == 1
    session.refresh_from_db()
    assert session.status == SessionStatus.FAILED
    assert "victim" in session.reason_stopped
    assert runtime.status(str(session.pk)) == {}


def test_engine_down_is_a_failed_check_and_changes_no_session(settings):
    session = starting_session()
    settings.RANGEX_RUNTIME_BACKEND = "apps.ops.tests.test_docker_reconcile.DeadEngine"
    result = reconcile.orphans_sweep()
    assert result.errors
    assert HealthCheck.objects.filter(check_type="orphans", status="failed").exists()
    session.refresh_from_db()
    assert session.status == SessionStatus.STARTING
    checks = health.health_check_run()
    engine = next(c for c in checks if c.check_type == "engine")
    assert engine.status == "failed"


class DeadEngine(DockerRuntime):
    """A Docker runtime pointed at a socket where nothing listens."""

    def __init__(self):
        super().__init__(base_url="unix:///tmp/rangex-no-such-docker.sock", timeout=2)


def test_stuck_starting_session_is_failed_and_cleaned_up(runtime):
    with time_machine.travel(timezone.now() - timedelta(minutes=30)):
        session = starting_session()
    fresh = starting_session()
    checks = health.health_check_run()
    # Each configured runtime gets its own engine checks; this one is about Docker.
    by_type = {c.check_type: c for c in checks if c.service_name in ("docker", "sessions", "local-disk")}
    assert by_type["engine"].status == "ok"
    assert by_type["disk"].status in ("ok", "warning")
    assert by_type["images"].status in ("ok", "warning")
    # deploy/lib.sh installs the host firewall rule for egress bridges before the tests run.
    assert by_type["host_isolation"].status == "ok", by_type["host_isolation"].message
    stuck = by_type["stuck_sessions"]
    assert stuck.auto_healed and "failed" in stuck.heal_action
    assert stuck.details["sessions"] == [str(session.pk)]
    session.refresh_from_db()
    fresh.refresh_from_db()
    assert session.status == SessionStatus.FAILED
    assert fresh.status == SessionStatus.STARTING


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_remove_and_log_each_orphan_once(runtime):
    import threading

    from django.db import connection

    rogues = [_rogue_container(runtime, session_id=f"00000000-0000-4000-8000-00000000000{i}") for i in range(3)]
    later = timezone.now() + timedelta(minutes=30)
    barrier = threading.Barrier(2)
    results, errors = [], []

    def sweep():
        try:
            barrier.wait()
            results.append(reconcile.orphans_sweep(now=later))
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    try:
        threads = [threading.Thread(target=sweep) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        assert sum(r.orphans_removed for r in results) == 3
        ids = [r.id for r in rogues]
        statuses = list(OrphanedTaskLog.objects.filter(task_arn__in=ids).values_list("status", flat=True))
        assert statuses == ["terminated"] * 3
        assert not any(_exists(runtime, cid) for cid in ids)
    finally:
        for rogue in rogues:
            if _exists(runtime, rogue.id):
                rogue.remove(force=True)


@pytest.mark.django_db(transaction=True)
def test_two_expiry_passes_at_once_stop_each_session_once():
    import threading

    from django.db import connection

    from rangex.core.models import AuditLog

    with time_machine.travel(timezone.now() - timedelta(hours=6)):
        sessions = [running_session() for _ in range(3)]
    later = timezone.now() + timedelta(hours=12)
    barrier = threading.Barrier(2)
    counts, errors = [], []

    def expire():
        try:
            barrier.wait()
            counts.append(reconcile.sessions_expire(now=later))
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=expire) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    # A pass that finds a session already stopping by the other counts it too; the audit shows one stop.
    assert sum(counts) >= 3
    for s in sessions:
        assert AuditLog.objects.filter(action_type="session.stop", target_id=str(s.pk)).count() == 1


def test_an_orphan_left_claimed_by_a_killed_worker_is_taken_over_later(runtime):
    rogue = _rogue_container(runtime)
    try:
        later = timezone.now() + timedelta(minutes=30)
        # A sweep that claimed the orphan and died before removing it.
        OrphanedTaskLog.objects.create(task_arn=rogue.id, status="detected", detected_at=later)
        assert reconcile.orphans_sweep(now=later + timedelta(minutes=1)).orphans_removed == 0
        assert _exists(runtime, rogue.id)
        assert reconcile.orphans_sweep(now=later + timedelta(minutes=11)).orphans_removed == 1
        assert not _exists(runtime, rogue.id)
        assert OrphanedTaskLog.objects.get(task_arn=rogue.id).status == "terminated"
    finally:
        if _exists(runtime, rogue.id):
            rogue.remove(force=True)


class UnguardedHost(DockerRuntime):
    """A Docker runtime whose host firewall should hold a rule nobody installed."""

    HOST_FIREWALL_RULE = ("INPUT", "-i", "rxnone+", "-j", "DROP")


def test_a_missing_host_firewall_rule_fails_the_check_with_the_fix():
    result = UnguardedHost().host_isolation()
    assert result["ok"] is False
    assert "iptables -I INPUT -i rxnone+ -j DROP" in result["message"]
    checked = DockerRuntime().host_isolation()
    assert checked["ok"] is True, checked["message"]
    remote = DockerRuntime(base_url="tcp://127.0.0.1:1").host_isolation()
    assert remote["ok"] is None and "another host" in remote["message"]


def test_a_pause_the_engine_refuses_is_undone_and_audited(settings):
    from apps.environments import services as env_services
    from rangex.core.errors import ServiceUnavailable
    from rangex.core.models import AuditLog

    session = running_session()
    settings.RANGEX_RUNTIME_BACKEND = "apps.ops.tests.test_docker_reconcile.DeadEngine"
    with pytest.raises(ServiceUnavailable, match="could not be paused"):
        env_services.env_session_pause(session=session, actor=session.user)
    session.refresh_from_db()
    assert session.status == SessionStatus.RUNNING and session.paused_remaining_seconds is None
    actions = list(AuditLog.objects.filter(target_id=str(session.pk)).values_list("action_type", flat=True))
    assert {"session.pause", "session.pause_failed"} <= set(actions)


def test_the_sweep_never_touches_another_installs_resources(runtime):
    """A container of another instance on the same engine, old and with no session here, is left alone."""
    other = runtime.client.containers.run(
        TEST_IMAGE,
        ["sleep", "300"],
        detach=True,
        name=f"rx-other-{uuid.uuid4().hex[:12]}",
        labels={
            "rangex.instance": f"{settings.RANGEX_INSTANCE}-other",
            "rangex.managed": "1",
            "rangex.session": "00000000-0000-4000-8000-0000000000aa",
            "rangex.machine": "web",
        },
    )
    try:
        result = reconcile.orphans_sweep(now=timezone.now() + timedelta(days=2))
        assert _exists(runtime, other.id)
        assert other.id not in {log.task_arn for log in OrphanedTaskLog.objects.all()}
        assert not result.errors
        # Asked to remove it directly, the runtime refuses.
        from apps.runtime import ForeignResource

        with pytest.raises(ForeignResource):
            runtime.remove_resource("container", other.id)
        assert _exists(runtime, other.id)
    finally:
        other.remove(force=True)
