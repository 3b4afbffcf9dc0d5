"""The OpenAPI schema and the code agree: required fields, nullable fields, and the errors each endpoint answers.

Schemathesis (tests/test_schemathesis.py) checks responses against the schema at large; these pin
the findings of the probe one by one.
"""

from __future__ import annotations

import pytest

from apps.accounts.services import api_token_create

pytestmark = pytest.mark.django_db


def error_of(response) -> dict:
    assert response["Content-Type"] == "application/json", response.content[:200]
    return response.json()["error"]


def test_a_playlist_needs_a_title_on_create_but_not_on_change(solver_client):
    missing = solver_client.post("/api/v1/playlists/", {}, content_type="application/json")
    assert missing.status_code == 400
    assert error_of(missing)["fields"] == {"title": ["This field is required."]}
    created = solver_client.post("/api/v1/playlists/", {"title": "Web"}, content_type="application/json")
    assert created.status_code == 201
    playlist = created.json()["id"]
    changed = solver_client.patch(f"/api/v1/playlists/{playlist}/", {"is_public": False}, "application/json")
    assert changed.status_code == 200 and changed.json()["title"] == "Web"


def test_the_schema_marks_the_playlist_title_required_on_create_only(solver_client):
    components = solver_client.get("/api/schema/?format=json").json()["components"]["schemas"]
    assert "title" in components["PlaylistWriteRequest"]["required"]
    assert "required" not in components["PatchedPlaylistUpdateRequest"]


def test_token_timestamps_may_be_null_and_the_schema_says_so(solver, solver_client):
    api_token_create(user=solver, label="laptop", expires_in_days=None)
    [token] = solver_client.get("/api/v1/accounts/tokens/").json()
    assert token["expires_at"] is None and token["last_used_at"] is None and token["revoked_at"] is None
    token_schema = solver_client.get("/api/schema/?format=json").json()["components"]["schemas"]["Token"]
    for name in ("expires_at", "last_used_at", "revoked_at"):
        assert token_schema["properties"][name]["nullable"] is True, name


def test_a_new_token_is_documented_with_its_secret(solver_client):
    schema = solver_client.get("/api/schema/?format=json").json()
    created = schema["paths"]["/api/v1/accounts/tokens/"]["post"]["responses"]["201"]
    ref = created["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert "token" in schema["components"]["schemas"][ref]["properties"]
    response = solver_client.post("/api/v1/accounts/tokens/", {"label": "ci"}, content_type="application/json")
    assert response.status_code == 201 and response.json()["token"].startswith("rx_")


def test_every_operation_documents_its_error_responses_in_the_error_shape(solver_client):
    schema = solver_client.get("/api/schema/?format=json").json()
    answers = schema["paths"]["/api/v1/sessions/{id}/answers/"]["post"]["responses"]
    assert {"400", "401", "403", "404", "413", "415", "429", "503"} <= set(answers)
    assert answers["413"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    catalog = schema["paths"]["/api/v1/scenarios/"]["get"]["responses"]
    assert {"401", "404", "429", "503"} <= set(catalog) and "413" not in catalog and "403" not in catalog
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert {"401", "429", "503"} <= set(operation["responses"]), (method, path)
    error = schema["components"]["schemas"]["ErrorDetail"]
    assert set(error["required"]) == {"code", "message"}
