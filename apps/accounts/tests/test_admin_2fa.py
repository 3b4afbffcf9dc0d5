"""The admin site requires a verified second factor; solvers never enter it."""

import pytest
from django.test import Client

from apps.accounts.factories import PASSWORD, AdminFactory, UserFactory, enable_2fa, login_client, totp_code

pytestmark = pytest.mark.django_db


def test_admin_without_2fa_is_sent_to_enrolment_and_gets_in_after_it():
    admin = AdminFactory()
    client = login_client(admin)
    response = client.get("/admin/")
    assert response.status_code == 302
    follow = client.get(response["Location"])
    assert follow.status_code == 302 and "/accounts/2fa/setup/" in follow["Location"]

    page = client.get(follow["Location"])
    assert page.status_code == 200
    assert b"<svg" in page.content  # the QR code
    manual_key = page.context["secret"].replace(" ", "")
    wrong = client.post("/accounts/2fa/setup/", {"code": "123456"})
    assert wrong.status_code == 400
    ok = client.post("/accounts/2fa/setup/", {"code": totp_code(manual_key)})
    assert ok.status_code == 200
    assert len(ok.context["codes"]) == 10
    assert client.get("/admin/").status_code == 200


def test_admin_signed_in_with_2fa_reaches_the_admin(admin_client_2fa):
    assert admin_client_2fa.get("/admin/").status_code == 200


def test_solver_never_enters_the_admin(solver_client):
    response = solver_client.get("/admin/")
    assert response.status_code == 302
    assert solver_client.get(response["Location"]).status_code == 302  # sent home, not to a login form


def test_staff_session_older_than_enrolment_must_step_up():
    admin = AdminFactory()
    old_session = login_client(admin)  # signed in before 2FA existed
    secret, _ = enable_2fa(admin)
    response = old_session.get("/admin/login/?next=/admin/")
    assert "/accounts/2fa/verify/" in response["Location"]
    assert old_session.post(response["Location"], {"code": totp_code(secret)}).status_code == 302
    assert old_session.get("/admin/").status_code == 200


def test_staff_cannot_turn_2fa_off_themselves():
    admin = AdminFactory()
    secret, _ = enable_2fa(admin)
    client = login_client(admin, secret=secret)
    client.post("/accounts/2fa/disable/", {"password": PASSWORD})
    admin.refresh_from_db()
    assert admin.twofa_enabled


def test_solver_can_turn_2fa_off_with_password():
    user = UserFactory()
    secret, _ = enable_2fa(user)
    client = Client()
    client.post("/accounts/login/", {"email": user.email, "password": PASSWORD})
    client.post("/accounts/2fa/verify/", {"code": totp_code(secret)})
    client.post("/accounts/2fa/disable/", {"password": "wrong"})
    user.refresh_from_db()
    assert user.twofa_enabled
    client.post("/accounts/2fa/disable/", {"password": PASSWORD})
    user.refresh_from_db()
    assert not user.twofa_enabled and user.twofa_secret is None
