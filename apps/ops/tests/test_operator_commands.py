"""Commands an operator can script: ``--json`` everywhere, exit codes 0 ok / 1 degraded / 2 down, ``sessions``."""

import json
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, HTTPServer
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.environments.models import SessionStatus
from apps.ops.health import health_check_run
from apps.ops.models import AlertLog, HealthCheck
from apps.ops.tests.helpers import running_session
from rangex.core.heartbeats import BEAT, WORKER, heartbeat_record
from rangex.core.models import AuditLog
from rangex.core.system import system_settings_update

pytestmark = pytest.mark.django_db


def run(*args) -> tuple[int, str]:
    """Run a command; return its exit code and its standard output."""
    out = StringIO()
    try:
        call_command(*args, stdout=out)
    except CommandError as exc:
        return exc.returncode, out.getvalue()
    return 0, out.getvalue()


def run_json(*args) -> tuple[int, dict]:
    code, out = run(*args, "--json")
    return code, json.loads(out)


@pytest.fixture
def separate_worker(settings):
    """Run as production does: tasks go to a separate worker, beat runs on its own."""
    settings.CELERY_TASK_ALWAYS_EAGER = False


def all_alive():
    heartbeat_record(WORKER)
    heartbeat_record(BEAT)


def test_platform_status_is_down_when_the_worker_and_beat_never_heartbeat(separate_worker):
    code, report = run_json("platform_status")
    assert code == 2
    assert report["status"] == "down" and report["exit_code"] == 2
    assert report["components"]["worker"]["status"] == "down"
    assert report["components"]["beat"]["status"] == "down"
    assert report["components"]["database"]["status"] == "ok"
    assert report["overview"]["sessions"] == {}
    code, text = run("platform_status")
    assert code == 2 and "Status: down" in text and "ok" not in text.splitlines()[0]


def test_platform_status_is_down_when_heartbeats_are_stale(separate_worker):
    import time

    heartbeat_record(WORKER, at=time.time() - 600)
    heartbeat_record(BEAT)
    code, report = run_json("platform_status")
    assert code == 2
    assert report["components"]["worker"]["status"] == "down"
    assert "600 s old" in report["components"]["worker"]["message"]
    assert report["components"]["beat"]["status"] == "ok"


def test_platform_status_is_ok_with_live_parts_fresh_checks_and_no_budget_trouble(separate_worker):
    all_alive()
    health_check_run()
    HealthCheck.objects.exclude(status="ok").delete()
    running_session()
    code, report = run_json("platform_status")
    assert report["components"]["checks"]["status"] == "ok", report["components"]["checks"]
    assert code == 0 and report["status"] == "ok", report
    assert report["overview"]["sessions"] == {"running": 1}
    assert {report["components"][p]["status"] for p in ("database", "cache", "broker", "engine")} == {"ok"}


def test_platform_status_is_degraded_by_stale_or_failed_checks(separate_worker):
    from datetime import timedelta

    from django.utils import timezone

    all_alive()
    code, report = run_json("platform_status")
    assert code == 1 and "No health check" in report["components"]["checks"]["message"]
    HealthCheck.objects.create(
        check_type="engine", service_name="docker", status="ok", checked_at=timezone.now() - timedelta(hours=2)
    )
    code, report = run_json("platform_status")
    assert code == 1 and "stale" in report["components"]["checks"]["message"]
    HealthCheck.objects.create(check_type="disk", service_name="local-disk", status="warning", message="8% free")
    code, report = run_json("platform_status")
    assert code == 1 and "8% free" in report["components"]["checks"]["message"]


def test_platform_status_is_down_at_the_budget_cap(separate_worker):
    all_alive()
    health_check_run()
    HealthCheck.objects.exclude(status="ok").delete()
    session = running_session()
    type(session).objects.filter(pk=session.pk).update(cost_accumulated_rm=Decimal("50"))
    system_settings_update(actor=None, budget_hard_cap_usd=Decimal("1"))
    code, report = run_json("platform_status")
    assert code == 2 and report["components"]["budget"]["status"] == "down"


def test_budget_report_exits_2_over_the_cap_0_under_it_and_prints_json():
    session = running_session()
    code, report = run_json("budget_report")
    assert code == 0 and report["status"] == "ok" and report["scenarios"] == []
    type(session).objects.filter(pk=session.pk).update(cost_accumulated_rm=Decimal("50"))
    system_settings_update(actor=None, budget_hard_cap_usd=Decimal("1"))
    code, report = run_json("budget_report")
    assert code == 2 and report["status"] == "down"
    assert Decimal(report["total_usd"]) >= Decimal("1") and report["cap_usd"] == "1.00"
    code, text = run("budget_report")
    assert code == 2 and "Status: down" in text


def test_health_check_json_and_exit_codes(settings, separate_worker):
    all_alive()
    code, report = run_json("health_check")
    assert {c["check_type"] for c in report["checks"]} >= {"engine", "disk", "stuck_sessions"}
    assert code == report["exit_code"] and report["components"]["worker"]["status"] == "ok"
    settings.RANGEX_RUNTIME_BACKEND = "apps.ops.tests.test_docker_reconcile.DeadEngine"
    code, report = run_json("health_check")
    assert code == 2 and report["components"]["engine"]["status"] == "down"


def test_health_check_alerts_once_when_beat_stops_heartbeating(separate_worker):
    system_settings_update(actor=None, admin_emails="ops@example.test")
    heartbeat_record(WORKER)
    for _ in range(2):
        code, report = run_json("health_check")
        assert code == 2 and report["components"]["beat"]["status"] == "down"
    alert = AlertLog.objects.get(dedupe_key="liveness:beat")
    assert "beat" in alert.subject and "Start Celery beat" in alert.message


def test_sweep_orphans_and_expire_sessions_and_maintenance_print_json(settings):
    code, report = run_json("sweep_orphans", "--dry-run")
    assert code == 0 and report["dry_run"] is True and report["errors"] == []
    assert {"orphans_found", "orphans_removed", "sessions_failed", "oversized"} <= set(report)
    assert run_json("expire_sessions") == (0, {"expired": 0, "idle_stopped": 0, "idle_warned": 0})
    code, report = run_json("maintenance", "status")
    assert code == 0 and report["maintenance"] is False and "message" in report
    settings.RANGEX_RUNTIME_BACKEND = "apps.ops.tests.test_docker_reconcile.DeadEngine"
    code, report = run_json("sweep_orphans")
    assert code == 2 and report["errors"]


def test_sessions_list_filters_by_state_and_prints_json():
    first, second = running_session(), running_session()
    code, rows = run_json("sessions", "list")
    assert code == 0 and {r["id"] for r in rows} == {str(first.pk), str(second.pk)}
    assert rows[0]["state"] == "running" and rows[0]["user"] and rows[0]["scenario"]
    code, rows = run_json("sessions", "list", "--user", first.user.email)
    assert [r["id"] for r in rows] == [str(first.pk)]
    code, rows = run_json("sessions", "list", "--state", "terminated")
    assert rows == []
    code, text = run("sessions", "list")
    assert str(first.pk) in text and "2 session(s)." in text


def test_sessions_stop_by_id_user_and_scenario_audits_the_operator(admin_user):
    first, second, third = running_session(), running_session(), running_session()
    code, out = run("sessions", "stop", str(first.pk))
    assert code == 0 and str(first.pk) in out
    first.refresh_from_db()
    assert first.status in (SessionStatus.STOPPING, SessionStatus.TERMINATED)
    assert "Stopped by an operator" in first.reason_stopped
    code, report = run_json("sessions", "stop", "--user", second.user.email, "--as", admin_user.email)
    assert report == {"stopped": [str(second.pk)]}
    audit = {row.details["sessions"][0]: row for row in AuditLog.objects.filter(action_type="operator.sessions_stop")}
    assert set(audit) == {str(first.pk), str(second.pk)}
    assert audit[str(second.pk)].user == admin_user and audit[str(first.pk)].user is None
    assert audit[str(first.pk)].details["operator"]
    code, report = run_json("sessions", "stop", "--scenario", third.scenario_version.scenario.slug)
    assert report == {"stopped": [str(third.pk)]}
    code, report = run_json("sessions", "stop", "--scenario", third.scenario_version.scenario.slug)
    assert report == {"stopped": []}
    assert run("sessions", "stop")[0] == 1


def test_health_check_reports_secrets_under_other_keys_instead_of_crashing(settings):
    """A restore without its FIELD_ENCRYPTION_KEYS: every stored secret is unreadable."""
    from cryptography.fernet import Fernet

    from rangex.core.system import invalidate_settings_cache

    all_alive()
    system_settings_update(actor=None, slack_webhook_url="https://hooks.example.test/services/T0/B0/XYZ")
    assert run_json("health_check")[1]["components"]["encryption"]["status"] == "ok"
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    invalidate_settings_cache()
    code, report = run_json("health_check")
    assert code == 2
    encryption = report["components"]["encryption"]
    assert encryption["status"] == "down" and "core.SystemSettings.slack_webhook_url" in encryption["columns"]
    assert "FIELD_ENCRYPTION_KEYS" in encryption["message"] and "Backups and restore" in encryption["message"]
    code, text = run("health_check")
    assert code == 2 and "Stored secrets cannot be decrypted with FIELD_ENCRYPTION_KEYS" in text
    assert run_json("platform_status")[0] == 2
    # A failing check alerts, which reads the settings row: reported, not a traceback.
    settings.RANGEX_RUNTIME_BACKEND = "apps.ops.tests.test_docker_reconcile.DeadEngine"
    code, report = run_json("health_check")
    assert code == 2 and "DecryptionError" in report["error"]
    assert report["components"]["encryption"]["status"] == "down"


class _Healthz(BaseHTTPRequestHandler):
    status = 200

    def do_GET(self):
        self.send_response(_Healthz.status)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_the_web_component_probes_rangex_web_health_url(settings, separate_worker):
    import threading

    all_alive()
    server = HTTPServer(("127.0.0.1", 0), _Healthz)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        assert run_json("platform_status")[1]["components"]["web"]["status"] == "skipped"
        settings.RANGEX_WEB_HEALTH_URL = f"http://127.0.0.1:{server.server_port}/healthz"
        assert run_json("platform_status")[1]["components"]["web"]["status"] == "ok"
        _Healthz.status = 500
        assert run_json("platform_status")[1]["components"]["web"]["status"] == "down"
    finally:
        server.shutdown()
        server.server_close()
    code, report = run_json("platform_status")
    assert code == 2 and report["components"]["web"]["status"] == "down"


def test_platform_status_reports_a_database_that_does_not_answer_and_exits_2():
    import os
    import subprocess
    import sys

    from django.conf import settings

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "rangex.settings_test",
        "DATABASE_URL": "mysql://root@127.0.0.1:1/none",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "platform_status", "--json"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr[-2000:]
    report = json.loads(result.stdout)
    assert report["components"]["database"]["status"] == "down" and report["overview"] is None
