import pytest
from celery import shared_task
from django.urls import reverse

from apps.ops.models import AlertLog
from apps.ops.tests.helpers import running_session
from rangex.core.system import system_settings_update

pytestmark = pytest.mark.django_db


def test_metrics_are_hidden_unless_enabled_and_authorised(client, settings, admin_client_2fa):
    settings.RANGEX_METRICS_TOKEN = "scrape-token-1234567890"
    running_session()
    assert client.get(reverse("metrics")).status_code == 404
    system_settings_update(actor=None, enable_prometheus_metrics=True)
    assert client.get(reverse("metrics")).status_code == 404
    assert client.get(reverse("metrics"), HTTP_AUTHORIZATION="Bearer wrong").status_code == 404
    response = client.get(reverse("metrics"), HTTP_AUTHORIZATION="Bearer scrape-token-1234567890")
    assert response.status_code == 200
    text = response.content.decode()
    assert 'rangex_sessions{state="running"} 1' in text
    assert "rangex_launch_duration_seconds_count 1" in text
    assert "rangex_cost_today_rm" in text and 'rangex_sweep_last{result="orphans_found"}' in text
    assert admin_client_2fa.get(reverse("metrics")).status_code == 200


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
