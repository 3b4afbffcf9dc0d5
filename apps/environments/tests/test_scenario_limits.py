"""Per-scenario limits and the allow list, enforced at start, in the catalog, the pages and the API."""

from __future__ import annotations

import re

import pytest
from rest_framework.test import APIClient

from apps.accounts.factories import UserFactory, login_client
from apps.environments import services
from apps.environments.factories import pivot_version
from apps.environments.models import EnvironmentSession, SessionStatus
from apps.environments.services.common import session_duration_minutes
from apps.scenarios import catalog, limits
from apps.scenarios.models import ScenarioAccessGrant, ScenarioLimit
from rangex.core.errors import LimitExceeded, PermissionDenied
from rangex.core.system import system_settings_update

pytestmark = pytest.mark.django_db


def _end(session):
    EnvironmentSession.objects.filter(pk=session.pk).update(status=SessionStatus.TERMINATED)


def test_sessions_per_player_per_day_and_the_maximum_duration(admin_user):
    version = pivot_version()
    assert session_duration_minutes(version) == 60
    limits.scenario_limit_set(
        scenario=version.scenario, actor=admin_user, max_sessions_per_user_per_day=1, max_duration_minutes=10
    )
    version.scenario.refresh_from_db()
    solver = UserFactory()
    session = services.env_session_start(user=solver, version=version)
    assert 9 <= (session.expires_at - session.created_at).total_seconds() / 60 <= 10
    _end(session)
    with pytest.raises(LimitExceeded, match="1 per player per day") as exc:
        services.env_session_start(user=solver, version=version)
    assert exc.value.limit == "max_sessions_per_user_per_day"
    _end(services.env_session_start(user=UserFactory(), version=version))
    with pytest.raises(PermissionDenied):
        limits.scenario_limit_set(scenario=version.scenario, actor=solver, max_concurrent_players=1)


def test_the_allow_list_decides_what_a_solver_sees_and_starts(admin_user):
    system_settings_update(actor=None, allow_all_scenarios=False)
    version = pivot_version()
    solver = UserFactory()
    assert not catalog.catalog_list(user=solver).filter(pk=version.pk).exists()
    with pytest.raises(PermissionDenied, match="not been given access"):
        services.env_session_start(user=solver, version=version)
    api = APIClient()
    api.force_authenticate(solver)
    assert api.get(f"/api/v1/scenarios/{version.scenario.slug}/").status_code == 404
    assert login_client(solver).get(f"/scenarios/{version.scenario.slug}/").status_code == 404
    limits.scenario_access_grant(scenario=version.scenario, user=solver, actor=admin_user)
    assert catalog.catalog_list(user=solver).filter(pk=version.pk).exists()
    assert api.get(f"/api/v1/scenarios/{version.scenario.slug}/").status_code == 200
    services.env_session_start(user=solver, version=version)
    # Turning the setting back on opens everything again.
    system_settings_update(actor=None, allow_all_scenarios=True)
    assert catalog.catalog_list(user=UserFactory()).filter(pk=version.pk).exists()


def test_max_accessible_scenarios_caps_the_different_scenarios_a_solver_plays():
    first, second = pivot_version(), pivot_version()
    solver = UserFactory()
    system_settings_update(actor=None, max_accessible_scenarios=1)
    _end(services.env_session_start(user=solver, version=first))
    with pytest.raises(LimitExceeded, match="limit of 1 different scenarios") as exc:
        services.env_session_start(user=solver, version=second)
    assert exc.value.limit == "max_accessible_scenarios"
    assert list(catalog.catalog_list(user=solver).filter(pk__in=[first.pk, second.pk])) == [first]
    # The scenario already played stays open; with the cap at 2 the second one opens.
    _end(services.env_session_start(user=solver, version=first))
    system_settings_update(actor=None, max_accessible_scenarios=2)
    services.env_session_start(user=solver, version=second)


class _Inputs:
    pattern = re.compile(r"<(input|select|textarea)\b([^>]*)>", re.S)

    @classmethod
    def of(cls, html: str) -> dict:
        data = {}
        for _tag, attrs in cls.pattern.findall(html):
            name = re.search(r'name="([^"]+)"', attrs)
            if not name or 'type="submit"' in attrs or 'type="checkbox"' in attrs:
                continue
            value = re.search(r'value="([^"]*)"', attrs)
            data[name.group(1)] = value.group(1) if value else ""
        return data


def test_admins_set_limits_and_the_allow_list_on_the_scenario_page(admin_client_2fa):
    version = pivot_version()
    solver = UserFactory()
    url = f"/admin/scenarios/scenario/{version.scenario.pk}/change/"
    page = admin_client_2fa.get(url)
    html = page.content.decode()
    assert page.status_code == 200 and "Limits (checked when a lab starts)" in html
    data = _Inputs.of(page.content.decode())
    data.update(
        {
            "limit-0-max_concurrent_players": "3",
            "limit-0-max_sessions_per_user_per_day": "2",
            "limit-0-max_duration_minutes": "45",
            "access_grants-TOTAL_FORMS": "1",
            "access_grants-0-user": str(solver.pk),
            "access_grants-0-scenario": str(version.scenario.pk),
        }
    )
    response = admin_client_2fa.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    limit = ScenarioLimit.objects.get(scenario=version.scenario)
    assert (limit.max_concurrent_players, limit.max_sessions_per_user_per_day, limit.max_duration_minutes) == (3, 2, 45)
    assert ScenarioAccessGrant.objects.filter(scenario=version.scenario, user=solver).exists()


def test_the_daily_session_limit_follows_its_setting():
    version, solver = pivot_version(), UserFactory()
    system_settings_update(actor=None, max_sessions_per_day=1)
    _end(services.env_session_start(user=solver, version=version))
    with pytest.raises(LimitExceeded) as exc:
        services.env_session_start(user=solver, version=version)
    assert exc.value.limit == "max_sessions_per_day"
    system_settings_update(actor=None, max_sessions_per_day=5)
    services.env_session_start(user=solver, version=version)
