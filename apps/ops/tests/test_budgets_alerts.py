import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import time_machine
from django.core import mail

from apps.environments.models import EnvironmentSession, SessionStatus
from apps.ops import alerts, costs
from apps.ops.models import AlertLog, BudgetAlert
from apps.ops.tests.helpers import running_session
from rangex.core.system import get_settings, invalidate_settings_cache, system_settings_update

T0 = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
def admins():
    system_settings_update(actor=None, admin_emails="ops1@example.test, ops2@example.test")


def _charge(session, rm: str) -> None:
    EnvironmentSession.objects.filter(pk=session.pk).update(cost_accumulated_rm=Decimal(rm))


@pytest.mark.django_db
def test_scenario_budget_alerts_then_grace_then_shuts_down(admins, django_capture_on_commit_callbacks):
    with time_machine.travel(T0, tick=False):
        session = running_session()
        scenario = session.scenario_version.scenario
        budget = BudgetAlert.objects.create(
            scenario=scenario,
            alert_month=T0.date().replace(day=1),
            budget_limit=Decimal("10"),
            alert_percentage=80,
            grace_period_hours=2,
            auto_shutdown_enabled=True,
        )
        _charge(session, "8.50")
        with django_capture_on_commit_callbacks(execute=True):
            assert costs.scenario_budgets_check()["alerted"] == 1
        assert costs.scenario_budgets_check()["alerted"] == 0
    budget.refresh_from_db()
    assert budget.status == BudgetAlert.Status.ALERTED and budget.admin_notified
    assert budget.percentage_used == Decimal("85.00")
    # 8.50 over 9.5 days of a 31-day month.
    assert budget.forecast_end_of_month == (Decimal("8.50") / Decimal("9.5") * 31).quantize(Decimal("0.0001"))
    assert len(mail.outbox) == 2
    _charge(session, "10.20")
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        assert costs.scenario_budgets_check()["grace"] == 1
        assert costs.scenario_budgets_check()["shutdown"] == 0
    budget.refresh_from_db()
    assert budget.status == BudgetAlert.Status.GRACE
    assert budget.grace_period_ends == T0 + timedelta(hours=3)
    with time_machine.travel(T0 + timedelta(hours=3, minutes=1), tick=False):
        assert costs.scenario_budgets_check()["shutdown"] == 1
        assert costs.scenario_budgets_check()["shutdown"] == 0
    session.refresh_from_db()
    assert session.status == SessionStatus.STOPPING
    assert "budget" in session.reason_stopped
    budget.refresh_from_db()
    assert budget.status == BudgetAlert.Status.SHUTDOWN and budget.shutdown_at is not None


@pytest.mark.django_db
def test_next_month_budget_copies_the_configuration():
    session = running_session()
    scenario = session.scenario_version.scenario
    BudgetAlert.objects.create(
        scenario=scenario, alert_month=datetime(2026, 2, 1).date(), budget_limit=Decimal("50"), grace_period_hours=5
    )
    costs.scenario_budgets_check(now=T0)
    copy = BudgetAlert.objects.get(scenario=scenario, alert_month=datetime(2026, 3, 1).date())
    assert (copy.budget_limit, copy.grace_period_hours, copy.status) == (Decimal("50.00"), 5, BudgetAlert.Status.OK)


@pytest.mark.django_db
def test_global_cap_turns_on_maintenance_stops_sessions_and_alerts_once(admins, settings):
    settings.RANGEX_RM_PER_USD = "4.00"
    system_settings_update(actor=None, budget_hard_cap_usd=Decimal("2.00"), auto_maintenance_on_budget_cap=True)
    session = running_session()
    _charge(session, "7.90")
    assert costs.budget_cap_check()["reached"] is False
    costs.budget_cap_check()
    assert [a.subject for a in AlertLog.objects.filter(alert_type="budget_cap")][:1] == [
        "Monthly spend at 99% of the budget cap"
    ]
    AlertLog.objects.all().delete()
    _charge(session, "8.00")
    state = costs.budget_cap_check()
    assert state["reached"] and state["stopped"] == 1
    costs.budget_cap_check()
    invalidate_settings_cache()
    assert get_settings().maintenance_active and get_settings().budget_paused
    session.refresh_from_db()
    assert session.status == SessionStatus.STOPPING
    assert AlertLog.objects.filter(alert_type="budget_cap").count() == 2  # two admins, one alert each


class _FlakyHook(BaseHTTPRequestHandler):
    failures_left = 2
    received: list[bytes] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if _FlakyHook.failures_left > 0:
            _FlakyHook.failures_left -= 1
            self.send_response(500)
        else:
            _FlakyHook.received.append(body)
            self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook_server():
    server = HTTPServer(("127.0.0.1", 0), _FlakyHook)
    _FlakyHook.failures_left, _FlakyHook.received = 2, []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hooks/secret-path"
    server.shutdown()
    server.server_close()


@pytest.mark.django_db
def test_webhook_alert_retries_against_a_server_that_fails_twice_then_accepts(webhook_server):
    system_settings_update(actor=None, slack_webhook_url=webhook_server)
    [row] = alerts.alert_send(alert_type="test", subject="Hello", message="World", priority="high")
    assert row.channel == "slack" and "secret-path" not in row.recipient
    assert alerts.alert_deliver(alert_id=row.pk).status == "pending"
    assert alerts.alert_deliver(alert_id=row.pk).status == "pending"
    row = alerts.alert_deliver(alert_id=row.pk)
    assert (row.status, row.retry_count) == ("sent", 2)
    assert b"Hello" in _FlakyHook.received[0]
    assert alerts.alert_deliver(alert_id=row.pk).status == "sent"
    assert len(_FlakyHook.received) == 1


@pytest.mark.django_db
def test_task_retries_until_sent(webhook_server, django_capture_on_commit_callbacks):
    system_settings_update(actor=None, slack_webhook_url=webhook_server)
    with django_capture_on_commit_callbacks(execute=True):
        [row] = alerts.alert_send(alert_type="test", subject="Via task")
    row.refresh_from_db()
    assert (row.status, row.retry_count) == ("sent", 2)


@pytest.mark.django_db
def test_malformed_webhook_is_a_recorded_failure_after_retries():
    system_settings_update(actor=None, slack_webhook_url="not a url")
    [row] = alerts.alert_send(alert_type="test", subject="x")
    for _ in range(alerts.MAX_ATTEMPTS):
        row = alerts.alert_deliver(alert_id=row.pk)
    assert (row.status, row.retry_count) == ("failed", 3)
    assert "malformed" in row.error_message


@pytest.mark.django_db
def test_unreachable_smtp_is_a_recorded_failure(settings, admins):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 1
    rows = alerts.alert_send(alert_type="test", subject="x")
    row = alerts.alert_deliver(alert_id=rows[0].pk)
    assert row.status == "pending" and row.retry_count == 1 and row.error_message


@pytest.mark.django_db
def test_dedupe_and_error_notification_switch(admins):
    assert len(alerts.alert_send(alert_type="health", subject="a", dedupe_key="k")) == 2
    assert alerts.alert_send(alert_type="health", subject="a", dedupe_key="k") == []
    system_settings_update(actor=None, send_error_notifications=False)
    assert alerts.alert_send(alert_type="error", subject="boom") == []


def test_a_scenario_shut_down_by_its_budget_refuses_new_starts(solver):
    from apps.environments import services
    from apps.environments.factories import pivot_version
    from rangex.core.errors import LimitExceeded

    version = pivot_version()
    BudgetAlert.objects.create(
        scenario=version.scenario,
        alert_month=datetime.now(UTC).date().replace(day=1),
        budget_limit=Decimal("1"),
        status=BudgetAlert.Status.SHUTDOWN,
    )
    with pytest.raises(LimitExceeded) as exc:
        services.env_session_start(user=solver, version=version)
    assert exc.value.limit == "scenario_monthly_budget"


def _admin_form_data(response) -> dict:
    """Return the data a browser would post back from an admin change page, unchanged."""
    data = {}
    for bound in response.context["adminform"].form:
        value = bound.value()
        if isinstance(value, bool):
            if value:
                data[bound.html_name] = "on"
        elif value is not None:
            data[bound.html_name] = value
    return data


@pytest.mark.django_db
def test_the_slack_webhook_can_be_cleared_in_the_admin_and_alerts_stop(admin_client_2fa):
    system_settings_update(actor=None, slack_webhook_url="https://hooks.example.test/services/T0-hook-token")
    url = "/admin/core/systemsettings/1/change/"
    page = admin_client_2fa.get(url)
    assert "T0-hook-token" not in page.content.decode()
    data = _admin_form_data(page)
    assert admin_client_2fa.post(url, data).status_code == 302
    invalidate_settings_cache()
    assert get_settings().slack_webhook_url, "a blank password input keeps the stored webhook"
    assert alerts.alert_send(alert_type="test", subject="still on")[0].channel == "slack"
    assert admin_client_2fa.post(url, {**data, "clear_slack_webhook_url": "on"}).status_code == 302
    invalidate_settings_cache()
    assert get_settings().slack_webhook_url == ""
    assert alerts.alert_send(alert_type="test", subject="now off") == []


@pytest.mark.django_db
def test_a_failed_test_alert_is_retried_then_marked_failed_and_shown(admin_client_2fa):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    system_settings_update(actor=None, slack_webhook_url="not a url")
    with pytest.raises(CommandError, match="No channel accepted"):
        call_command("send_test_alert", stdout=__import__("io").StringIO())
    row = AlertLog.objects.get(alert_type="test")
    assert (row.status, row.retry_count) == ("failed", alerts.MAX_ATTEMPTS)
    html = admin_client_2fa.get("/admin/").content.decode()
    assert 'rx-alert-status rx-failed" title="The Slack webhook URL is malformed' in html


@pytest.mark.django_db
def test_alerts_left_pending_by_a_lost_task_end_failed_after_bounded_retries():
    system_settings_update(actor=None, slack_webhook_url="not a url")
    with time_machine.travel(T0, tick=False):
        [row] = alerts.alert_send(alert_type="health", subject="lost", queue=False)
    with time_machine.travel(T0 + timedelta(minutes=5), tick=False):
        assert alerts.alerts_retry_stale()["retried"] == 0
    for minutes in (20, 25, 30, 35):
        with time_machine.travel(T0 + timedelta(minutes=minutes), tick=False):
            alerts.alerts_retry_stale()
    row.refresh_from_db()
    assert (row.status, row.retry_count) == ("failed", alerts.MAX_ATTEMPTS)


@pytest.mark.django_db
def test_budget_alert_percentage_decides_when_the_cap_warning_goes_out(admins, settings):
    settings.RANGEX_RM_PER_USD = "4.00"
    system_settings_update(actor=None, budget_hard_cap_usd=Decimal("2.00"), budget_alert_percentage=80)
    _charge(running_session(), "4.00")  # USD 1.00: half the cap
    costs.budget_cap_check()
    assert not AlertLog.objects.filter(alert_type="budget_cap").exists()
    system_settings_update(actor=None, budget_alert_percentage=40)
    invalidate_settings_cache()
    costs.budget_cap_check()
    assert AlertLog.objects.filter(alert_type="budget_cap", subject__contains="50%").exists()
