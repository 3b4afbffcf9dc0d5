import threading
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection
from django.utils import timezone

from apps.accounts.factories import UserFactory
from apps.accounts.models import User
from apps.environments.models import EnvironmentSession, SessionStatus
from apps.environments.services import cost_rate_rm
from apps.ops import costs, reconcile
from apps.ops.models import HealthCheck
from apps.ops.tests.helpers import running_session
from rangex.core.models import AuditLog, Notification
from rangex.core.system import system_settings_update

T0 = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


@pytest.mark.django_db
def test_expiry_stops_only_sessions_past_expires_at_and_only_once(django_capture_on_commit_callbacks):
    with time_machine.travel(T0, tick=False):
        due = running_session()
        fresh = running_session()
    EnvironmentSession.objects.filter(pk=fresh.pk).update(expires_at=T0 + timedelta(hours=5))
    with time_machine.travel(due.expires_at + timedelta(seconds=1), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            assert reconcile.sessions_expire() == 1
        assert reconcile.sessions_expire() == 0
    due.refresh_from_db()
    fresh.refresh_from_db()
    assert due.status == SessionStatus.TERMINATED
    assert due.reason_stopped == "The session time ran out."
    assert fresh.status == SessionStatus.RUNNING
    assert AuditLog.objects.filter(action_type="session.stop", target_id=str(due.pk)).count() == 1


@pytest.mark.django_db
def test_idle_session_is_warned_in_page_and_by_notification_then_stopped(django_capture_on_commit_callbacks):
    system_settings_update(actor=None, idle_timeout_minutes=30)
    with time_machine.travel(T0, tick=False):
        session = running_session()
    layer = get_channel_layer()
    # A plain (not process-specific) channel name is read with one blocking pop, whatever the event loop.
    channel = f"ops-test.{uuid.uuid4().hex}"
    async_to_sync(layer.group_add)(f"session-{session.pk}", channel)
    try:
        with time_machine.travel(T0 + timedelta(minutes=20), tick=False):
            assert reconcile.sessions_stop_idle() == {"stopped": 0, "warned": 0}
        with time_machine.travel(T0 + timedelta(minutes=26), tick=False):
            with django_capture_on_commit_callbacks() as callbacks:
                assert reconcile.sessions_stop_idle() == {"stopped": 0, "warned": 1}
            assert reconcile.sessions_stop_idle() == {"stopped": 0, "warned": 0}
        # The layer stamps messages with the clock and drops stale ones, so the push runs on real time.
        for callback in callbacks:
            callback()
        event = async_to_sync(layer.receive)(channel)
    finally:
        async_to_sync(layer.group_discard)(f"session-{session.pk}", channel)
        if hasattr(layer, "close_pools"):
            async_to_sync(layer.close_pools)()
    assert event["event"]["type"] == "idle_warning"
    assert "4 minute" in event["event"]["message"]
    assert Notification.objects.filter(user=session.user, type="session").count() == 1
    with time_machine.travel(T0 + timedelta(minutes=31), tick=False):
        assert reconcile.sessions_stop_idle()["stopped"] == 1
    session.refresh_from_db()
    assert session.status in (SessionStatus.STOPPING, SessionStatus.TERMINATED)
    assert "idle" in session.reason_stopped


@pytest.mark.django_db
def test_accrual_charges_rate_times_hours_to_session_and_user():
    with time_machine.travel(T0, tick=False):
        session = running_session()
    rate = cost_rate_rm(session)
    assert rate > 0
    with time_machine.travel(T0 + timedelta(minutes=90), tick=False):
        assert costs.cost_accrue()["charged"] == 1
    with time_machine.travel(T0 + timedelta(minutes=91), tick=False):
        costs.cost_accrue()
    session.refresh_from_db()
    expected = (rate * Decimal(91) / Decimal(60)).quantize(Decimal("0.0001"))
    assert abs(session.cost_accumulated_rm - expected) <= Decimal("0.0002")
    assert session.cost_accrued_until == T0 + timedelta(minutes=91)
    assert User.objects.get(pk=session.user_id).budget_spent_rm == session.cost_accumulated_rm.quantize(Decimal("0.01"))


@pytest.mark.django_db
def test_soft_limit_warns_once_and_hard_limit_stops():
    user = UserFactory()
    User.objects.filter(pk=user.pk).update(budget_limit_rm=Decimal("1.00"))
    with time_machine.travel(T0, tick=False):
        session = running_session(user=user)
    rate = cost_rate_rm(session)
    minutes_to_85pct = int(Decimal("0.85") / rate * 60) + 1
    with time_machine.travel(T0 + timedelta(minutes=minutes_to_85pct), tick=False):
        assert costs.cost_accrue()["warned"] == 1
    with time_machine.travel(T0 + timedelta(minutes=minutes_to_85pct + 1), tick=False):
        assert costs.cost_accrue()["warned"] == 0
    assert Notification.objects.filter(user=user, type="budget").count() == 1
    session.refresh_from_db()
    assert session.soft_limit_warned
    with time_machine.travel(T0 + timedelta(minutes=int(Decimal("1.01") / rate * 60) + 1), tick=False):
        assert costs.cost_accrue()["stopped"] == 1
    session.refresh_from_db()
    assert session.status in (SessionStatus.STOPPING, SessionStatus.TERMINATED)
    assert "budget" in session.reason_stopped


@pytest.mark.django_db(transaction=True)
def test_two_accrual_passes_at_once_charge_each_period_once():
    with time_machine.travel(T0, tick=False):
        sessions = [running_session() for _ in range(4)]
    barrier = threading.Barrier(2)
    errors = []

    def run():
        try:
            barrier.wait()
            costs.cost_accrue(now=T0 + timedelta(hours=1))
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for s in sessions:
        s.refresh_from_db()
        assert s.cost_accumulated_rm == cost_rate_rm(s).quantize(Decimal("0.0001"))
        assert User.objects.get(pk=s.user_id).budget_spent_rm == s.cost_accumulated_rm.quantize(Decimal("0.01"))


@pytest.mark.django_db
def test_daily_rollup_counts_hours_per_profile_and_is_repeatable():
    with time_machine.travel(T0, tick=False):
        session = running_session()
    now = T0 + timedelta(hours=2)
    row = costs.usage_rollup(day=T0.date(), now=now)
    again = costs.usage_rollup(day=T0.date(), now=now)
    assert row.pk == again.pk
    hours = getattr(again, f"env_hours_{session.env_profile}")
    assert hours == Decimal("2.0000")
    assert again.total_estimated_cost_rm == (cost_rate_rm(session) * 2).quantize(Decimal("0.0001"))
    assert again.vcpu_cost_rm + again.memory_cost_rm > 0


@pytest.mark.django_db
def test_retention_deletes_old_alerts_jobs_and_checks_but_never_audit_rows():
    from apps.ops.models import AlertLog
    from rangex.core.audit import AuditAction, audit_record
    from rangex.core.jobs import job_create, job_succeed
    from rangex.core.models import Job

    system_settings_update(actor=None, log_retention_days=30)
    old = timezone.now() - timedelta(days=31)
    AlertLog.objects.create(alert_type="test", channel="email", subject="old", created_at=old)
    AlertLog.objects.create(alert_type="test", channel="email", subject="new")
    job = job_create(type="x")
    job_succeed(job_id=job.pk)
    Job.objects.filter(pk=job.pk).update(created_at=old)
    HealthCheck.objects.create(check_type="disk", service_name="d", status="ok", checked_at=old)
    audit = audit_record(actor=None, action=AuditAction.SYSTEM_SETTING_SET)
    AuditLog.objects.filter(pk=audit.pk).update(timestamp=old)
    assert reconcile.retention_purge() == {"alerts": 1, "jobs": 1, "health_checks": 1}
    assert AlertLog.objects.filter(subject="new").exists()
    assert AuditLog.objects.filter(pk=audit.pk).exists()


@pytest.mark.django_db
def test_a_session_left_stopping_is_torn_down_by_the_periodic_pass():
    from apps.environments import services as env_services

    with time_machine.travel(T0, tick=False):
        session = running_session()
        # The teardown task is queued on commit, which never comes here: the session stays stopping.
        env_services.env_session_stop(session=session, actor=None, reason="test")
    assert EnvironmentSession.objects.get(pk=session.pk).status == SessionStatus.STOPPING
    assert env_services.env_session_teardown_stale(now=T0 + timedelta(minutes=5)) == 0
    assert env_services.env_session_teardown_stale(now=T0 + timedelta(minutes=15)) == 1
    assert EnvironmentSession.objects.get(pk=session.pk).status == SessionStatus.TERMINATED
    assert env_services.env_session_teardown_stale(now=T0 + timedelta(minutes=15)) == 0
