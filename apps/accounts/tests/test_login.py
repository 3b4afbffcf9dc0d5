"""Sign-in: lockout that unlocks by itself, a message that reveals nothing, login tracking, key rotation."""

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from apps.accounts.factories import PASSWORD, UserFactory, enable_2fa, totp_code
from apps.accounts.models import User
from apps.accounts.services import LOGIN_FAILED_MESSAGE
from rangex.core.models import AuditLog

pytestmark = pytest.mark.django_db


def _login(client, email, password):
    return client.post("/accounts/login/", {"email": email, "password": password})


def test_login_records_time_and_address_and_rotates_the_session_key(solver):
    client = Client(REMOTE_ADDR="203.0.113.7")
    client.get("/accounts/login/")
    client.session.save()
    before = client.session.session_key
    response = _login(client, solver.email, PASSWORD)
    assert response.status_code == 302
    assert client.session.session_key != before
    solver.refresh_from_db()
    assert solver.last_login_ip == "203.0.113.7"
    assert timezone.now() - solver.last_login_at < timedelta(seconds=10)
    assert AuditLog.objects.filter(action_type="auth.login", target_id=str(solver.pk)).exists()


def test_wrong_password_and_unknown_email_get_the_same_message(solver):
    client = Client()
    wrong = _login(client, solver.email, "not-the-password")
    unknown = _login(client, "nobody@example.test", "whatever-password")
    assert wrong.status_code == unknown.status_code == 400
    assert LOGIN_FAILED_MESSAGE.encode() in wrong.content
    assert LOGIN_FAILED_MESSAGE.encode() in unknown.content


def test_lockout_after_threshold_then_unlocks_by_itself(solver, settings):
    settings.ACCOUNT_LOCKOUT_THRESHOLD = 3
    settings.ACCOUNT_LOCKOUT_MINUTES = 15
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        client = Client()
        for _ in range(3):
            assert _login(client, solver.email, "wrong-password-x").status_code == 400
        solver.refresh_from_db()
        assert solver.locked_until == start + timedelta(minutes=15)

        # Locked: even the right password fails, with the same message, and the lock is not extended.
        response = _login(client, solver.email, PASSWORD)
        assert response.status_code == 400
        assert LOGIN_FAILED_MESSAGE.encode() in response.content
        _login(client, solver.email, "wrong-password-x")
        solver.refresh_from_db()
        assert solver.locked_until == start + timedelta(minutes=15)

        clock.shift(timedelta(minutes=15, seconds=1))
        assert _login(client, solver.email, PASSWORD).status_code == 302
    solver.refresh_from_db()
    assert solver.locked_until is None
    assert solver.failed_login_attempts == 0
    assert AuditLog.objects.filter(action_type="auth.lockout", target_id=str(solver.pk)).count() == 1


def test_disabled_account_cannot_sign_in(solver):
    User.objects.filter(pk=solver.pk).update(is_active=False)
    response = _login(Client(), solver.email, PASSWORD)
    assert response.status_code == 400
    assert LOGIN_FAILED_MESSAGE.encode() in response.content


def test_two_factor_step_rotates_the_key_again_and_rejects_a_replayed_code():
    user = UserFactory()
    secret, _ = enable_2fa(user)
    client = Client()
    response = _login(client, user.email, PASSWORD)
    assert response.status_code == 302 and "/accounts/2fa/verify/" in response["Location"]
    assert "_auth_user_id" not in client.session  # not signed in before the second factor
    key_after_password = client.session.session_key

    code = totp_code(secret)
    response = client.post("/accounts/2fa/verify/", {"code": code})
    assert response.status_code == 302
    assert client.session.session_key != key_after_password
    assert client.session["_auth_user_id"] == str(user.pk)

    # The same code cannot sign anyone in a second time.
    other = Client()
    _login(other, user.email, PASSWORD)
    replay = other.post("/accounts/2fa/verify/", {"code": code})
    assert replay.status_code == 400
    assert b"already used" in replay.content
    assert "_auth_user_id" not in other.session


def test_wrong_totp_code_is_refused_with_a_clear_message():
    user = UserFactory()
    enable_2fa(user)
    client = Client()
    _login(client, user.email, PASSWORD)
    response = client.post("/accounts/2fa/verify/", {"code": "000000"})
    assert response.status_code == 400
    assert b"not valid" in response.content


def test_recovery_code_signs_in_once():
    user = UserFactory()
    _, codes = enable_2fa(user)
    first = Client()
    _login(first, user.email, PASSWORD)
    assert first.post("/accounts/2fa/verify/", {"code": codes[0].lower()}).status_code == 302
    second = Client()
    _login(second, user.email, PASSWORD)
    assert second.post("/accounts/2fa/verify/", {"code": codes[0]}).status_code == 400


def test_next_parameter_only_redirects_to_this_site(solver):
    client = Client()
    response = client.post("/accounts/login/?next=https://evil.example/", {"email": solver.email, "password": PASSWORD})
    assert response["Location"] == "/"
