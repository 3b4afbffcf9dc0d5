"""Warm pools through the admin, an event's "Pre-warm for start" page, and the dashboard's own cost line."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from apps.accounts.factories import UserFactory
from apps.environments.factories import pivot_version
from apps.environments.models import EnvironmentPool, PoolWindow
from apps.events import services as event_services
from apps.events.factories import make_event, quiz_version
from apps.scenarios.factories import draft_version
from rangex.core.models import AuditLog
from rangex.core.system import system_settings_update

pytestmark = pytest.mark.django_db


def test_admin_creates_a_pool_and_refuses_one_without_a_published_version(admin_client_2fa):
    version = pivot_version()
    url = reverse("admin:environments_environmentpool_add")
    form = {
        "scenario": version.scenario_id,
        "is_enabled": "on",
        "min_ready": "2",
        "max_size": "4",
        "park_minutes": "240",
        "windows-TOTAL_FORMS": "1",
        "windows-INITIAL_FORMS": "0",
        "windows-0-starts_at_0": "2026-12-01",
        "windows-0-starts_at_1": "09:55:00",
        "windows-0-ends_at_0": "2026-12-01",
        "windows-0-ends_at_1": "10:30:00",
        "windows-0-min_ready": "4",
        "windows-0-note": "Class start",
        "environments-TOTAL_FORMS": "0",
        "environments-INITIAL_FORMS": "0",
    }
    response = admin_client_2fa.post(url, form)
    assert response.status_code == 302, response.content.decode()[:3000]
    pool = EnvironmentPool.objects.get(scenario=version.scenario)
    assert (pool.min_ready, pool.max_size) == (2, 4)
    assert PoolWindow.objects.get(pool=pool).min_ready == 4
    assert AuditLog.objects.filter(action_type="pool.create").exists()
    page = admin_client_2fa.get(reverse("admin:environments_environmentpool_change", args=[pool.pk])).content.decode()
    assert "Target now" in page and "Environments in the pool now" in page

    draft = draft_version()
    refused = admin_client_2fa.post(url, {**form, "scenario": draft.scenario_id})
    assert refused.status_code == 200
    assert "has no published version" in refused.content.decode()
    # A window larger than the maximum is refused next to its field.
    too_big = admin_client_2fa.post(url, {**form, "scenario": pivot_version().scenario_id, "windows-0-min_ready": "9"})
    assert too_big.status_code == 200 and "At most the pool&#x27;s maximum size (4)" in too_big.content.decode()
    assert EnvironmentPool.objects.count() == 1


def test_event_prewarm_sizes_windows_from_registrations_and_reports_refusals(admin_client_2fa, admin_user):
    lab = pivot_version()
    event = make_event(versions=[lab, quiz_version()], live=False)
    for _ in range(3):
        event_services.event_register(event=event, user=UserFactory())
    url = reverse("admin:events_prewarm", args=[event.pk])
    page = admin_client_2fa.get(url).content.decode()
    assert "<strong>3</strong> players registered" in page and lab.title in page
    assert (
        "Pre-warm for start"
        in admin_client_2fa.get(reverse("admin:events_event_change", args=[event.pk])).content.decode()
    )

    response = admin_client_2fa.post(url, {"count": ""})
    assert response.status_code == 200
    window = PoolWindow.objects.get(pool__scenario=lab.scenario)
    assert window.min_ready == 3
    assert window.starts_at == event.start_date - timedelta(minutes=5)
    assert window.ends_at == event.start_date + timedelta(minutes=30)
    assert "3 ready from" in response.content.decode()
    # Again with another size: the event's window is replaced, not doubled.
    admin_client_2fa.post(url, {"count": "2"})
    assert PoolWindow.objects.filter(pool__scenario=lab.scenario).get().min_ready == 2

    # Over the budget: refused per challenge, with the reason on the page.
    system_settings_update(actor=admin_user, budget_hard_cap_usd=Decimal("0.01"))
    response = admin_client_2fa.post(url, {"count": "500"})
    assert "Refused:" in response.content.decode() and "budget cap" in response.content.decode()
    assert PoolWindow.objects.filter(pool__scenario=lab.scenario).get().min_ready == 2


def test_dashboard_shows_the_pools_as_their_own_cost_line(admin_client_2fa):
    version = pivot_version()
    EnvironmentPool.objects.create(scenario=version.scenario, min_ready=0, max_size=2)
    page = admin_client_2fa.get(reverse("admin:index")).content.decode()
    assert 'id="rx-pool-cost"' in page and "Warm pools: 0 labs parked" in page
