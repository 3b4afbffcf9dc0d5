"""Session timeouts, and sessions ended by a password change or an account disable."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from apps.accounts.factories import PASSWORD, login_client
from apps.accounts.services import user_set_active

pytestmark = pytest.mark.django_db


def test_idle_timeout_signs_out(solver, settings):
    settings.SESSION_IDLE_TIMEOUT_MINUTES = 10
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        client = login_client(solver)
        assert client.get("/accounts/profile/").status_code == 200
        clock.shift(timedelta(minutes=9))
        assert client.get("/accounts/profile/").status_code == 200
        clock.shift(timedelta(minutes=11))
        response = client.get("/accounts/profile/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_activity_keeps_the_session_but_the_absolute_timeout_ends_it(solver, settings):
    settings.SESSION_IDLE_TIMEOUT_MINUTES = 30
    settings.SESSION_ABSOLUTE_TIMEOUT_HOURS = 2
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        client = login_client(solver)
        for _ in range(5):
            clock.shift(timedelta(minutes=20))
            assert client.get("/accounts/profile/").status_code == 200
        clock.shift(timedelta(minutes=25))
        response = client.get("/accounts/profile/")
    assert response.status_code == 302


def test_password_change_ends_other_sessions_but_keeps_this_one(solver):
    here = login_client(solver)
    elsewhere = login_client(solver)
    new_password = "a-much-better-passphrase-77"
    response = here.post(
        "/accounts/password/", {"old_password": PASSWORD, "new_password1": new_password, "new_password2": new_password}
    )
    assert response.status_code == 302
    assert here.get("/accounts/profile/").status_code == 200
    assert elsewhere.get("/accounts/profile/").status_code == 302


def test_weak_new_password_is_refused(solver):
    client = login_client(solver)
    response = client.post(
        "/accounts/password/", {"old_password": PASSWORD, "new_password1": "12345678", "new_password2": "12345678"}
    )
    assert response.status_code == 400
    assert b"too short" in response.content or b"too common" in response.content


def test_disabling_an_account_ends_its_sessions(solver, admin_user):
    client = login_client(solver)
    assert client.get("/accounts/profile/").status_code == 200
    user_set_active(user=solver, actor=admin_user, active=False)
    assert client.get("/accounts/profile/").status_code == 302
