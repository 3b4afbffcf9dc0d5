"""Sign-up gate, duplicate email, weak password, email verification link."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.utils import timezone

from apps.accounts.models import User
from rangex.core.system import system_settings_update

pytestmark = pytest.mark.django_db

GOOD = {
    "email": "New.Person@Example.test",
    "display_name": "Newbie",
    "password": "sturdy-passphrase-91",
    "password_confirm": "sturdy-passphrase-91",
}


def test_signup_creates_a_solver_and_sends_a_verification_link(django_capture_on_commit_callbacks):
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/signup/", GOOD)
    assert response.status_code == 302
    user = User.objects.get(email="new.person@example.test")
    assert user.role_solver and not user.role_creator and not user.role_admin
    assert user.email_verified_at is None
    assert len(mail.outbox) == 1
    link = re.search(r"http://testserver(/accounts/verify/\S+/)", mail.outbox[0].body).group(1)
    assert client.get(link).status_code == 302
    user.refresh_from_db()
    assert user.email_verified_at is not None


def test_expired_verification_link_is_a_clear_400(settings, django_capture_on_commit_callbacks):
    settings.ACCOUNT_EMAIL_VERIFICATION_HOURS = 1
    with django_capture_on_commit_callbacks(execute=True):
        Client().post("/accounts/signup/", GOOD)
    link = re.search(r"http://testserver(/accounts/verify/\S+/)", mail.outbox[0].body).group(1)
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        response = Client().get(link)
    assert response.status_code == 400
    assert b"expired" in response.content
    assert Client().get("/accounts/verify/garbage/").status_code == 400


def test_duplicate_email_is_refused_case_insensitively(solver):
    response = Client().post("/accounts/signup/", {**GOOD, "email": solver.email.upper()})
    assert response.status_code == 400
    assert b"already exists" in response.content
    assert User.objects.filter(email__iexact=solver.email).count() == 1


def test_weak_password_is_refused_and_nothing_is_written():
    response = Client().post("/accounts/signup/", {**GOOD, "password": "password", "password_confirm": "password"})
    assert response.status_code == 400
    assert not User.objects.filter(email="new.person@example.test").exists()


def test_signup_gate_closes_registration(admin_user):
    system_settings_update(actor=admin_user, allow_new_registrations=False)
    response = Client().post("/accounts/signup/", GOOD)
    assert response.status_code == 403
    assert not User.objects.filter(email="new.person@example.test").exists()


def test_signup_stops_at_max_total_users(admin_user):
    system_settings_update(actor=admin_user, max_total_users=User.objects.count())
    response = Client().post("/accounts/signup/", GOOD)
    assert response.status_code == 400
    assert b"maximum number of accounts" in response.content
