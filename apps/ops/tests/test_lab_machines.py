"""Live labs whose machines stopped behind the platform's back are recovered or failed, never charged for the gap."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from apps.accounts.factories import UserFactory
from apps.accounts.models import User
from apps.environments import services as env_services
from apps.environments.factories import pivot_version
from apps.environments.models import SessionStatus
from apps.ops import costs, health, reconcile, recovery
from apps.ops.models import HealthCheck
from apps.runtime import MachineState, get_runtime
from apps.runtime.fake import FakeRuntime
from rangex.core.models import AuditLog, Notification

pytestmark = pytest.mark.django_db

FAKE = {"BACKEND": "apps.runtime.fake.FakeRuntime"}


@pytest.fixture
def fake(settings):
    """The in-memory backend as the only one, so each test owns every session the checks see."""
    FakeRuntime.reset_all()
    settings.RANGEX_RUNTIMES = {"fake": FAKE}
    settings.RANGEX_DEFAULT_RUNTIME = "fake"
    yield get_runtime("fake")
    FakeRuntime.reset_all()


def _start(solver, captured):
    with captured(execute=True):
        session = env_services.env_session_start(user=solver, version=pivot_version())
    session.refresh_from_db()
    assert session.status == SessionStatus.RUNNING
    return session


def test_a_machine_stopped_behind_our_back_is_restarted_and_its_downtime_not_charged(
    fake, solver, django_capture_on_commit_callbacks
):
    session = _start(solver, django_capture_on_commit_callbacks)
    sid = str(session.pk)
    rate = env_services.cost_rate_rm(session)
    fake.simulate_exit(sid, "victim")
    stopped = fake.exited_at(sid)["victim"]
    # Accrual ran on while the lab was down: ten minutes charged for a lab that was not there.
    costs.cost_accrue(now=session.started_at + timedelta(minutes=10))
    session.refresh_from_db()
    assert session.cost_accumulated_rm > 0
    expires = session.expires_at

    checked = recovery.lab_machines_check_all()
    assert checked.broken == [sid] and checked.recovered == [sid] and not checked.failed
    assert set(fake.status(sid).values()) == {MachineState.RUNNING}
    session.refresh_from_db()
    assert session.status == SessionStatus.RUNNING
    # Charged only until the machine stopped.
    owed = (rate * Decimal(str((stopped - session.started_at).total_seconds())) / 3600).quantize(Decimal("0.0001"))
    assert abs(session.cost_accumulated_rm - owed) <= Decimal("0.0001")
    assert User.objects.get(pk=solver.pk).budget_spent_rm == session.cost_accumulated_rm.quantize(Decimal("0.01"))
    assert session.cost_accrued_until >= stopped
    # The solver's page says what happened, the lost time is given back, and the solver is told.
    assert "victim" in session.progress_message and "not charged" in session.progress_message
    assert session.expires_at >= expires
    assert Notification.objects.filter(user=solver, title="Your lab was restarted").count() == 1
    assert AuditLog.objects.filter(action_type="session.recovered", target_id=sid).exists()
    check = HealthCheck.objects.get(check_type="lab_machines", service_name="fake")
    assert check.status == "warning" and check.auto_healed and "1 recovered" in check.message
    # A healthy lab is left alone.
    assert recovery.lab_machines_check_all().broken == []


def test_a_machine_that_cannot_come_back_fails_the_lab_stops_its_cost_tells_the_user_and_cleans_up(
    fake, solver, django_capture_on_commit_callbacks
):
    session = _start(solver, django_capture_on_commit_callbacks)
    sid = str(session.pk)
    fake.script.never_ready("victim")
    fake.simulate_exit(sid, "victim")
    stopped = fake.exited_at(sid)["victim"]
    costs.cost_accrue(now=session.started_at + timedelta(minutes=10))

    checked = recovery.lab_machines_check_all()
    assert checked.failed == [sid] and not checked.recovered
    session.refresh_from_db()
    assert session.status == SessionStatus.FAILED
    assert "could not be started again (victim)" in session.reason_stopped
    # Charged up to the moment the machine stopped; accrual's mark is past the failure, so the time
    # the lab was down is never charged, not even as a stopped session's last part-minute.
    assert stopped <= session.stopped_at <= session.cost_accrued_until
    assert Notification.objects.filter(user=solver, title="Your lab stopped working").count() == 1
    assert fake.status(sid) == {}
    # Nothing more is charged for a failed lab.
    costs.cost_accrue(now=session.started_at + timedelta(minutes=20))
    before = session.cost_accumulated_rm
    session.refresh_from_db()
    assert session.cost_accumulated_rm == before


def test_a_paused_lab_whose_machines_exited_comes_back_paused(fake, solver, django_capture_on_commit_callbacks):
    session = _start(solver, django_capture_on_commit_callbacks)
    env_services.env_session_pause(session=session, actor=solver)
    fake.simulate_engine_restart()
    assert recovery.lab_machines_check_all().recovered == [str(session.pk)]
    session.refresh_from_db()
    assert session.status == SessionStatus.PAUSED
    assert set(fake.status(str(session.pk)).values()) == {MachineState.PAUSED}


def _sweep(*args) -> str:
    out = StringIO()
    call_command("sweep_orphans", *args, stdout=out)
    return out.getvalue()


def test_a_dry_run_reports_the_sessions_the_real_sweep_then_acts_on(fake, solver, django_capture_on_commit_callbacks):
    exited = _start(solver, django_capture_on_commit_callbacks)
    fake.simulate_exit(str(exited.pk), "attacker")
    later = timezone.now() + timedelta(minutes=30)
    dry = reconcile.orphans_sweep(dry_run=True, now=later)
    assert (dry.sessions_broken, dry.sessions_failed, dry.sessions_recovered) == (1, 0, 0)
    assert fake.status(str(exited.pk))["attacker"] == MachineState.EXITED
    real = reconcile.orphans_sweep(now=later)
    assert (real.sessions_broken, real.sessions_recovered, real.sessions_failed) == (1, 1, 0)


def test_a_dry_run_counts_a_lab_that_lost_a_machine_as_failing_as_the_real_run_does(
    fake, django_capture_on_commit_callbacks
):
    from apps.accounts.factories import UserFactory

    session = _start(UserFactory(), django_capture_on_commit_callbacks)
    sid = str(session.pk)
    victim = next(r for r in fake.list_managed() if r.session_id == sid and r.machine == "victim")
    fake.remove_resource(victim.kind, victim.id)
    assert "Broken sessions: 1 (would be recovered or failed; 1 cannot come back and would fail)" in _sweep(
        "--dry-run", "--grace-minutes", "0"
    )
    session.refresh_from_db()
    assert session.status == SessionStatus.RUNNING
    assert "Broken sessions: 1 (0 recovered, 1 failed)" in _sweep("--grace-minutes", "0")
    session.refresh_from_db()
    assert session.status == SessionStatus.FAILED and "disappeared" in session.reason_stopped


def test_health_check_and_platform_status_notice_a_stopped_lab(fake, solver, django_capture_on_commit_callbacks):
    session = _start(solver, django_capture_on_commit_callbacks)
    fake.simulate_exit(str(session.pk), "pivot")
    checks = health.health_check_run()
    lab = next(c for c in checks if c.check_type == "lab_machines")
    assert lab.status == "warning" and lab.details["recovered"] == [str(session.pk)]
    out = StringIO()
    with pytest.raises(CommandError):  # no worker or beat heartbeat in this test: down for that reason
        call_command("platform_status", stdout=out)
    assert "lab_machines" in out.getvalue() and "1 recovered" in out.getvalue()


def test_a_lab_paused_longer_than_the_limit_is_stopped_by_the_expiry_task(
    fake, solver, django_capture_on_commit_callbacks
):
    from rangex.core.system import system_settings_update

    system_settings_update(actor=None, max_pause_minutes=120)
    session = _start(solver, django_capture_on_commit_callbacks)
    other = _start(UserFactory(), django_capture_on_commit_callbacks)
    env_services.env_session_pause(session=session, actor=solver)
    env_services.env_session_pause(session=other, actor=other.user)
    session.refresh_from_db()
    assert session.paused_at is not None
    assert reconcile.sessions_expire(now=session.paused_at + timedelta(minutes=119)) == 0
    # A pause that ended does not count: the other lab is resumed and paused again 100 minutes later.
    env_services.env_session_resume(session=other, actor=other.user)
    with time_machine.travel(session.paused_at + timedelta(minutes=100)):
        env_services.env_session_pause(session=other, actor=other.user)
    with django_capture_on_commit_callbacks(execute=True):
        assert reconcile.sessions_expire(now=session.paused_at + timedelta(minutes=121)) == 1
    session.refresh_from_db()
    other.refresh_from_db()
    assert session.status == SessionStatus.TERMINATED and "paused for more than 120 minutes" in session.reason_stopped
    assert fake.status(str(session.pk)) == {}
    assert other.status == SessionStatus.PAUSED


def test_a_pause_is_not_charged_when_the_lab_resumes(fake, solver, django_capture_on_commit_callbacks):
    from datetime import UTC, datetime

    t0 = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    with time_machine.travel(t0, tick=False):
        session = _start(solver, django_capture_on_commit_callbacks)
    rate = env_services.cost_rate_rm(session)
    with time_machine.travel(t0 + timedelta(minutes=10), tick=False):
        costs.cost_accrue()
    with time_machine.travel(t0 + timedelta(minutes=15), tick=False):
        env_services.env_session_pause(session=session, actor=solver)
    with time_machine.travel(t0 + timedelta(minutes=75), tick=False):
        env_services.env_session_resume(session=session, actor=solver)
    with time_machine.travel(t0 + timedelta(minutes=80), tick=False):
        costs.cost_accrue()
    session.refresh_from_db()
    # 15 minutes before the pause and 5 after it: 20 minutes, not 80.
    expected = (rate * Decimal(20) / Decimal(60)).quantize(Decimal("0.0001"))
    assert abs(session.cost_accumulated_rm - expected) <= Decimal("0.0002")
