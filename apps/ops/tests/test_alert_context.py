"""Alerts say where, when, what, where to look and what to do; a recovered check says "resolved"."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.core import mail

from apps.ops import health
from apps.ops.models import AlertLog
from rangex.core.system import system_settings_update

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
def admins():
    system_settings_update(actor=None, admin_emails="ops@example.test")


def test_a_failed_check_alert_has_context_and_recovery_sends_resolved(admins, settings):
    # Docker alone, as in production: the in-memory backend honestly fails the host isolation check.
    settings.RANGEX_RUNTIMES = {}
    live_engine = settings.RANGEX_RUNTIME_BACKEND
    settings.RANGEX_RUNTIME_BACKEND = "apps.ops.tests.test_docker_reconcile.DeadEngine"
    settings.SITE_URL = "https://rangex.example.org"
    with time_machine.travel(T0, tick=False):
        health.health_check_run()
    failure = AlertLog.objects.get(alert_type="health")
    body = failure.message
    assert "Engine reachable" in failure.subject
    assert "is unreachable" in body
    assert f"Instance: {settings.RANGEX_INSTANCE} (https://rangex.example.org)" in body
    assert "Time: 2026-03-10 12:00:00 UTC" in body
    assert "Admin: https://rangex.example.org/admin/ops/healthcheck/" in body
    assert "Next step: Check the Docker engine" in body

    settings.RANGEX_RUNTIME_BACKEND = live_engine
    with time_machine.travel(T0 + timedelta(minutes=5), tick=False):
        health.health_check_run()
        health.health_check_run()
    resolved = AlertLog.objects.filter(alert_type="health", subject__startswith="Resolved")
    assert [a.subject for a in resolved] == ["Resolved: Engine reachable is ok again"]
    assert "It failed at 2026-03-10 12:00" in resolved[0].message
    assert "Instance:" in resolved[0].message


def test_the_email_subject_names_the_instance(admins, django_capture_on_commit_callbacks):
    from apps.ops import alerts

    with django_capture_on_commit_callbacks(execute=True):
        alerts.alert_send(alert_type="test", subject="Hello", link="/admin/", next_step="Read it.")
    assert mail.outbox[0].subject == f"[RangeX {settings.RANGEX_INSTANCE}] Hello"
    assert "Next step: Read it." in mail.outbox[0].body
