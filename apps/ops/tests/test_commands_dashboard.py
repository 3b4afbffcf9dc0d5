from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from apps.ops.costs import usage_rollup
from apps.ops.models import BudgetAlert, HealthCheck
from apps.ops.tests.helpers import running_session
from rangex.core.heartbeats import BEAT, heartbeat_record
from rangex.core.models import AuditLog
from rangex.core.system import get_settings, invalidate_settings_cache, system_settings_update

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_platform_status_prints_sessions_cost_and_checks():
    heartbeat_record(BEAT)
    running_session()
    HealthCheck.objects.create(check_type="engine", service_name="docker", status="ok", message="The engine answers.")
    system_settings_update(actor=None, budget_hard_cap_usd=Decimal("100"))
    out = run("platform_status")
    assert "running=1" in out
    assert "Cost today: RM" in out
    assert "of USD 100.00" in out
    assert "engine" in out and "The engine answers." in out


def test_budget_report_for_a_month_and_bad_month_exit_code():
    session = running_session()
    BudgetAlert.objects.create(
        scenario=session.scenario_version.scenario, alert_month=date(2026, 3, 1), budget_limit=Decimal("20")
    )
    out = run("budget_report", "--month", "2026-03")
    assert "Month 2026-03" in out and session.scenario_version.scenario.slug in out
    with pytest.raises(CommandError) as exc:
        run("budget_report", "--month", "March")
    assert exc.value.returncode == 1


def test_expire_sessions_reports_counts():
    assert run("expire_sessions") == "Expired: 0. Idle stopped: 0. Idle warned: 0.\n"


def test_send_test_alert_without_recipients_fails_and_with_email_succeeds(mailoutbox):
    with pytest.raises(CommandError, match="No recipients"):
        run("send_test_alert")
    system_settings_update(actor=None, admin_emails="ops@example.test")
    out = run("send_test_alert")
    assert "ops@example.test" in out and "sent" in out
    assert mailoutbox[0].subject == f"[RangeX {settings.RANGEX_INSTANCE}] Test alert"


def test_maintenance_command_turns_mode_on_with_message():
    assert "on" in run("maintenance", "on", "--message", "Back at noon")
    invalidate_settings_cache()
    assert get_settings().maintenance_mode and get_settings().maintenance_message == "Back at noon"


def test_health_check_command_exit_code_follows_failures(settings):
    # Docker alone, as in production: the in-memory backend honestly fails the host isolation check.
    settings.RANGEX_RUNTIMES = {}
    heartbeat_record(BEAT)
    out = run("health_check")
    assert "engine" in out and "ok" in out
    settings.RANGEX_RUNTIME_BACKEND = "apps.ops.tests.test_docker_reconcile.DeadEngine"
    with pytest.raises(CommandError, match="engine"):
        run("health_check")
    with pytest.raises(CommandError, match="Sweep failed"):
        run("sweep_orphans", "--dry-run")


def test_admin_index_shows_the_dashboard_to_admins(admin_client_2fa):
    session = running_session()
    usage_rollup()
    HealthCheck.objects.create(check_type="disk", service_name="local-disk", status="failed", message="Disk full")
    system_settings_update(actor=None, budget_hard_cap_usd=Decimal("50"))
    response = admin_client_2fa.get(reverse("admin:index"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="ops-dashboard"' in html
    assert "1 running" in html
    assert "Disk full" in html
    assert "vendor/chartjs/chart.umd.js" in html
    assert 'role="progressbar"' in html
    assert str(session.user) in html


def test_budget_admin_creates_a_budget_through_the_service(admin_client_2fa):
    session = running_session()
    response = admin_client_2fa.post(
        reverse("admin:ops_budgetalert_add"),
        {
            "scenario": session.scenario_version.scenario.pk,
            "alert_month": "2026-03-17",
            "budget_limit": "25.00",
            "alert_percentage": "75",
            "grace_period_hours": "6",
            "auto_shutdown_enabled": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    budget = BudgetAlert.objects.get()
    assert budget.alert_month == date(2026, 3, 1) and budget.auto_shutdown_enabled


def test_budget_admin_refusal_is_shown_and_nothing_is_saved(admin_client_2fa):
    session = running_session()
    form = {
        "scenario": session.scenario_version.scenario.pk,
        "budget_limit": "25.00",
        "alert_percentage": "75",
        "grace_period_hours": "6",
    }
    first = admin_client_2fa.post(
        reverse("admin:ops_budgetalert_add"), {**form, "alert_month": "2026-03-01"}, follow=True
    )
    assert "was added successfully" in first.content.decode()
    # Another day of the same month passes the form's unique check; the service refuses it.
    response = admin_client_2fa.post(
        reverse("admin:ops_budgetalert_add"), {**form, "alert_month": "2026-03-17"}, follow=True
    )
    html = response.content.decode()
    assert "already has a budget for that month" in html and "was added successfully" not in html
    assert BudgetAlert.objects.count() == 1
    assert (
        not AuditLog.objects.filter(action_type="budget.create")
        .exclude(target_id=str(BudgetAlert.objects.get().pk))
        .exists()
    )


def test_creators_see_the_admin_index_without_the_operations_dashboard(creator_client):
    response = creator_client.get(reverse("admin:index"))
    assert response.status_code == 200
    assert 'id="ops-dashboard"' not in response.content.decode()
    assert creator_client.get(reverse("admin:ops_alertlog_changelist")).status_code == 403
