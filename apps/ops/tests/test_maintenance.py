"""Maintenance mode: non-staff get a 503 with the admin's message (HTML or JSON); staff keep working."""

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
