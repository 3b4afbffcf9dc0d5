"""Maintenance mode: non-staff get a 503 with the admin's message (HTML or JSON); staff keep working."""

import re

import pytest
from django.test import Client

from rangex.core.system import maintenance_set

pytestmark = pytest.mark.django_db


@pytest.fixture
def maintenance(admin_user):
    maintenance_set(actor=admin_user, enabled=True, message="Upgrading the lab hosts until 14:00 UTC.")


def test_anonymous_and_solvers_get_a_503_page_with_the_message(maintenance, solver_client):
    for client in (Client(), solver_client):
        response = client.get("/")
        assert response.status_code == 503
        assert b"Upgrading the lab hosts until 14:00 UTC." in response.content
        assert response["Retry-After"]


def test_api_clients_get_json(maintenance, solver_client):
    response = solver_client.get("/api/v1/accounts/me/")
    assert response.status_code == 503
    assert response.json() == {"error": {"code": "maintenance", "message": "Upgrading the lab hosts until 14:00 UTC."}}


def test_staff_keep_working_and_can_still_sign_in(maintenance, admin_client_2fa):
    assert admin_client_2fa.get("/").status_code == 200
    assert admin_client_2fa.get("/admin/").status_code == 200
    assert Client().get("/accounts/login/").status_code == 200


def test_turning_maintenance_off_takes_effect_at_once(maintenance, admin_user, solver_client):
    maintenance_set(actor=admin_user, enabled=False)
    assert solver_client.get("/").status_code == 200


def test_maintenance_command_switches_and_reports(admin_user):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("maintenance", "on", "--message", "Back soon", stdout=out)
    assert "on" in out.getvalue() and "Back soon" in out.getvalue()
    assert Client().get("/").status_code == 503
    call_command("maintenance", "off", stdout=out)
    assert Client().get("/").status_code == 200


def _over_the_cap(settings):
    from decimal import Decimal

    from apps.environments.models import EnvironmentSession
    from apps.ops.tests.helpers import running_session
    from rangex.core.system import system_settings_update

    settings.RANGEX_RM_PER_USD = "1.00"
    system_settings_update(
        actor=None,
        budget_hard_cap_usd=Decimal("1.00"),
        auto_maintenance_on_budget_cap=True,
        maintenance_message="Operator's own words.",
    )
    session = running_session()
    EnvironmentSession.objects.filter(pk=session.pk).update(cost_accumulated_rm=Decimal("5"))
    return session


def test_an_operators_maintenance_off_over_the_cap_wins_until_cleared(settings, capsys):
    from io import StringIO

    from django.core.management import call_command

    from apps.ops import costs
    from rangex.core.models import AuditLog
    from rangex.core.system import get_settings, invalidate_settings_cache

    _over_the_cap(settings)
    state = costs.budget_cap_check()
    assert state["reached"] and state["stopped"] == 1
    invalidate_settings_cache()
    conf = get_settings()
    assert conf.budget_paused and not conf.maintenance_mode
    assert conf.maintenance_message == "Operator's own words."
    assert Client().get("/").status_code == 503

    out, err = StringIO(), StringIO()
    call_command("maintenance", "off", stdout=out, stderr=err)
    assert "still exceeded" in err.getvalue()
    assert Client().get("/").status_code == 200
    # Beat's next passes leave the operator's decision alone.
    for _ in range(2):
        assert costs.budget_cap_check()["overridden"] is True
    invalidate_settings_cache()
    assert not get_settings().budget_paused
    assert Client().get("/").status_code == 200

    status = StringIO()
    # Over the cap but resumed by the operator: RangeX serves, so the budget is degraded, not down.
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):  # no beat heartbeat in this test: down for that reason
        call_command("platform_status", stdout=status)
    assert re.search(r"budget +degraded", status.getvalue()), status.getvalue()
    assert "Budget pause: overridden by an operator this month" in status.getvalue()
    assert "an operator resumed RangeX" in status.getvalue()
    call_command("maintenance", "clear-override", stdout=out, stderr=err)
    costs.budget_cap_check()
    assert Client().get("/").status_code == 503

    rows = list(AuditLog.objects.filter(action_type__in=["budget.pause", "maintenance.off"]).order_by("timestamp"))
    assert [(r.action_type, r.details["actor"]) for r in rows] == [
        ("budget.pause", "system:budget-cap"),
        ("maintenance.off", f"command:{__import__('getpass').getuser()}"),
        ("budget.pause", "system:budget-cap"),
    ]


def test_the_budget_banner_and_the_operators_message_are_both_shown(settings, admin_user, admin_client_2fa):
    from apps.ops import costs

    _over_the_cap(settings)
    maintenance_set(actor=admin_user, enabled=True, message="Upgrading the lab hosts until 14:00 UTC.")
    costs.budget_cap_check()
    page = Client().get("/").content.decode()
    assert "Upgrading the lab hosts until 14:00 UTC." in page
    assert "reached its monthly budget" in page
    dashboard = admin_client_2fa.get("/admin/").content.decode()
    assert 'id="rx-maintenance"' in dashboard and 'id="rx-budget-paused"' in dashboard
    from rangex.core.models import AuditLog

    row = AuditLog.objects.get(action_type="maintenance.on")
    assert row.user == admin_user


def test_unticking_budget_paused_in_the_admin_resumes_and_wins_over_the_budget_check(settings, admin_client_2fa):
    from apps.ops import costs
    from apps.ops.tests.test_budgets_alerts import _admin_form_data
    from rangex.core.models import AuditLog
    from rangex.core.system import get_settings, invalidate_settings_cache

    _over_the_cap(settings)
    costs.budget_cap_check()
    url = "/admin/core/systemsettings/1/change/"
    data = _admin_form_data(admin_client_2fa.get(url))
    assert data.pop("budget_paused") == "on"
    assert admin_client_2fa.post(url, data).status_code == 302
    assert costs.budget_cap_check()["overridden"] is True
    invalidate_settings_cache()
    conf = get_settings()
    assert not conf.budget_paused and conf.budget_override_month == costs.month_start()
    assert Client().get("/").status_code == 200
    row = AuditLog.objects.get(action_type="maintenance.off")
    assert row.user is not None and row.user.is_platform_admin
