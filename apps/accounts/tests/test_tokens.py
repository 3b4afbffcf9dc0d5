"""Personal API tokens: hashed at rest, shown once, expiry, revocation, last use."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.models import ApiToken
from apps.accounts.services import api_token_create, api_token_revoke

pytestmark = pytest.mark.django_db


def _client(raw=None):
    client = APIClient()
    if raw:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_token_authenticates_and_records_last_use(solver):
    token, raw = api_token_create(user=solver, label="laptop", expires_in_days=30)
    response = _client(raw).get("/api/v1/accounts/me/")
    assert response.status_code == 200
    assert response.json()["email"] == solver.email
    token.refresh_from_db()
    assert token.last_used_at is not None
    # Only a digest is stored.
    assert raw not in str(ApiToken.objects.filter(pk=token.pk).values().get())


def test_revoked_token_is_refused_with_the_json_error_shape(solver):
    token, raw = api_token_create(user=solver, label="ci", expires_in_days=None)
    api_token_revoke(token=token, actor=solver)
    response = _client(raw).get("/api/v1/accounts/me/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_expired_token_is_refused(solver):
    _, raw = api_token_create(user=solver, label="short", expires_in_days=1)
    with time_machine.travel(timezone.now() + timedelta(days=1, minutes=1)):
        assert _client(raw).get("/api/v1/accounts/me/").status_code == 401


def test_tampered_and_malformed_tokens_are_refused(solver):
    _, raw = api_token_create(user=solver, label="x", expires_in_days=None)
    assert _client(raw[:-1] + ("A" if raw[-1] != "A" else "B")).get("/api/v1/accounts/me/").status_code == 401
    assert _client("rx_nothing").get("/api/v1/accounts/me/").status_code == 401
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer a b c")
    assert client.get("/api/v1/accounts/me/").status_code == 401


def test_token_of_a_disabled_user_is_refused(solver):
    _, raw = api_token_create(user=solver, label="x", expires_in_days=None)
    type(solver).objects.filter(pk=solver.pk).update(is_active=False)
    assert _client(raw).get("/api/v1/accounts/me/").status_code == 401


def test_token_api_creates_shows_once_and_revokes(solver):
    _, raw = api_token_create(user=solver, label="bootstrap", expires_in_days=None)
    client = _client(raw)
    created = client.post("/api/v1/accounts/tokens/", {"label": "phone", "expires_in_days": 7}, format="json")
    assert created.status_code == 201
    assert created.json()["token"].startswith("rx_")
    listed = client.get("/api/v1/accounts/tokens/").json()
    assert all("token" not in row for row in listed)
    revoked = client.post(f"/api/v1/accounts/tokens/{created.json()['id']}/revoke/")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]


def test_token_api_rejects_bad_input_with_field_errors(solver):
    _, raw = api_token_create(user=solver, label="x", expires_in_days=None)
    response = _client(raw).post("/api/v1/accounts/tokens/", {"label": "", "expires_in_days": 9999}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_failed"


def test_another_users_token_cannot_be_revoked(solver, creator):
    theirs, _ = api_token_create(user=creator, label="theirs", expires_in_days=None)
    _, raw = api_token_create(user=solver, label="mine", expires_in_days=None)
    response = _client(raw).post(f"/api/v1/accounts/tokens/{theirs.pk}/revoke/")
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def test_token_page_shows_the_secret_once(solver_client):
    response = solver_client.post("/accounts/tokens/", {"label": "cli", "expires_in_days": 30})
    assert response.status_code == 200
    raw = response.context["created"]
    assert raw.encode() in response.content
    assert raw.encode() not in solver_client.get("/accounts/tokens/").content
