"""/metrics: prometheus-client's format, counters read from the database, real histograms, protected (issue 27)."""

import json
from decimal import Decimal
from pathlib import Path

import pytest
from celery import shared_task
from django.conf import settings
from django.test import Client
from django.urls import reverse
from prometheus_client.parser import text_string_to_metric_families

from apps.environments import services as env_services
from apps.environments.models import EnvironmentSession
from apps.ops.models import AlertLog
from apps.ops.tests.helpers import running_session, starting_session
from rangex.core.heartbeats import BEAT, WORKER, heartbeat_record
from rangex.core.metrics import TERMINAL_OPEN_SECONDS
from rangex.core.system import system_settings_update

pytestmark = pytest.mark.django_db

DASHBOARD = Path(settings.BASE_DIR) / "deploy" / "grafana" / "rangex.json"


def scrape(client=None, **headers) -> dict:
    """Return {sample name with labels: value} from /metrics, read back by prometheus-client's own parser."""
    response = (client or Client(REMOTE_ADDR="127.0.0.1")).get(reverse("metrics"), **headers)
    assert response.status_code == 200, response.status_code
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
            samples[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return samples


def test_metrics_are_on_by_default_for_this_host_and_need_the_token_from_elsewhere(settings, admin_client_2fa):
    assert Client(REMOTE_ADDR="127.0.0.1").get(reverse("metrics")).status_code == 200
    assert Client(REMOTE_ADDR="::1").get(reverse("metrics")).status_code == 200
    assert Client(REMOTE_ADDR="203.0.113.9").get(reverse("metrics")).status_code == 404
    # Through a proxy on this host, the client is not this host.
    proxied = Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert proxied.get(reverse("metrics")).status_code == 404
    settings.RANGEX_METRICS_TOKEN = "scrape-token-1234567890"
    assert Client(REMOTE_ADDR="127.0.0.1").get(reverse("metrics")).status_code == 404
    remote = Client(REMOTE_ADDR="203.0.113.9")
    assert remote.get(reverse("metrics"), HTTP_AUTHORIZATION="Bearer wrong").status_code == 404
    assert remote.get(reverse("metrics"), HTTP_AUTHORIZATION="Bearer scrape-token-1234567890").status_code == 200
    assert admin_client_2fa.get(reverse("metrics")).status_code == 200
    settings.RANGEX_METRICS_ENABLED = False
    assert remote.get(reverse("metrics"), HTTP_AUTHORIZATION="Bearer scrape-token-1234567890").status_code == 404


def test_counters_come_from_the_database_whichever_process_did_the_work():
    running_session()
    failed = starting_session()
    env_services.env_session_mark_failed(session=failed, reason="The lab could not start: no such image")
    timed_out = starting_session()
    env_services.env_session_mark_failed(session=timed_out, reason="The lab did not start within 15 minutes.")
    system_settings_update(actor=None, admin_emails="ops@example.test")
    from apps.ops.alerts import alert_send

    alert_send(alert_type=AlertLog.AlertType.TEST, subject="hello", queue=False)
    m = scrape()
    assert m["rangex_session_launches_total"] == 3
    assert m['rangex_session_failures_total{reason="launch_error"}'] == 1
    assert m['rangex_session_failures_total{reason="start_timeout"}'] == 1
    assert m['rangex_session_failures_total{reason="machines_lost"}'] == 0
    assert m['rangex_sessions{state="running"}'] == 1
    assert m["rangex_alerts_total"] >= 1
    assert m['rangex_answers_total{correct="true",kind="lab"}'] == 0
    assert m["rangex_solves_total"] == 0


def test_launch_time_is_a_cumulative_histogram_over_every_session():
    from datetime import timedelta

    for seconds in (3, 25, 400):
        session = running_session()
        EnvironmentSession.objects.filter(pk=session.pk).update(
            started_at=session.created_at + timedelta(seconds=seconds)
        )
    m = scrape()
    assert m['rangex_launch_duration_seconds_bucket{le="5.0"}'] == 1
    assert m['rangex_launch_duration_seconds_bucket{le="30.0"}'] == 2
    assert m['rangex_launch_duration_seconds_bucket{le="600.0"}'] == 3
    assert m['rangex_launch_duration_seconds_bucket{le="+Inf"}'] == 3
    assert m["rangex_launch_duration_seconds_count"] == 3
    assert m["rangex_launch_duration_seconds_sum"] == pytest.approx(428, abs=1)
    # Not a window: a session started long ago still counts.
    EnvironmentSession.objects.update(created_at=EnvironmentSession.objects.first().created_at - timedelta(days=30))
    assert scrape()["rangex_launch_duration_seconds_count"] == 3


def test_terminal_open_time_is_a_histogram_and_gauges_show_liveness_engine_and_budget(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    before = scrape().get("rangex_terminal_open_seconds_count", 0)
    TERMINAL_OPEN_SECONDS.observe(0.3)
    heartbeat_record(BEAT)
    session = running_session()
    EnvironmentSession.objects.filter(pk=session.pk).update(cost_accumulated_rm=Decimal("40"))
    system_settings_update(actor=None, budget_hard_cap_usd=Decimal("2"))
    m = scrape()
    assert m["rangex_terminal_open_seconds_count"] == before + 1
    assert m['rangex_process_up{process="beat"}'] == 1 and m['rangex_process_up{process="worker"}'] == 0
    assert m['rangex_component_status{component="worker"}'] == 2
    assert m["rangex_engine_up"] == 1 and m['rangex_component_status{component="database"}'] == 0
    assert m["rangex_budget_cap_usd"] == 2 and m["rangex_budget_used_ratio"] > 1
    assert m["rangex_status"] == 2
    assert 'rangex_queue_depth{queue="celery"}' in m
    heartbeat_record(WORKER)
    assert scrape()['rangex_process_up{process="worker"}'] == 1


def test_every_metric_the_grafana_dashboard_queries_is_served():
    import re

    dashboard = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel.get("targets", [])]
    queried = {name for expr in exprs for name in re.findall(r"\b(rangex_[a-z_]+)", expr)}
    assert len(queried) >= 15
    running_session()
    TERMINAL_OPEN_SECONDS.observe(0.1)
    heartbeat_record(BEAT)
    system_settings_update(actor=None, budget_hard_cap_usd=Decimal("100"))
    served = {name.split("{")[0] for name in scrape()}
    assert queried - served == set()


@shared_task
def _always_fails():
    raise RuntimeError("kaboom")


def test_a_failed_task_alerts_the_admins_once_when_error_notifications_are_on():
    system_settings_update(actor=None, admin_emails="ops@example.test")
    for _ in range(2):
        _always_fails.apply(throw=False)
    alert = AlertLog.objects.get(alert_type="error")
    assert "kaboom" in alert.message and alert.recipient == "ops@example.test"
    system_settings_update(actor=None, send_error_notifications=False)
    AlertLog.objects.all().delete()
    _always_fails.apply(throw=False)
    assert not AlertLog.objects.exists()
