"""The API under hostile or careless requests: deep JSON, huge or broken bodies, unknown URLs.

Every refusal is a clear 4xx in the one error shape ``{"error": {"code", "message", ...}}``, never
Django's bare HTML "Bad Request" or a 500.
"""

from __future__ import annotations

import pytest

from apps.events import services as event_services
from apps.events.factories import make_event, version_of
from apps.paths.factories import running_session
from apps.scenarios.factories import published_version

pytestmark = pytest.mark.django_db

DEEP = '{"question_id": "q1", "answer": ' + "[" * 100_000 + "]" * 100_000 + "}"
TWENTY_MB = b'{"title": "' + b"x" * (20 * 1024 * 1024) + b'"}'


def error_of(response) -> dict:
    assert response["Content-Type"] == "application/json", response.content[:200]
    return response.json()["error"]


def nested(depth: int) -> str:
    return '{"question_id": "q1", "answer": ' + "[" * (depth - 1) + '"x"' + "]" * (depth - 1) + "}"


@pytest.fixture
def session(solver):
    return running_session(user=solver, version=published_version())


@pytest.fixture
def event_player(solver):
    event = make_event(allow_late_registration=True)
    event_services.event_register(event=event, user=solver)
    return event


def test_a_deeply_nested_session_answer_is_a_400_not_a_crash(solver_client, session):
    response = solver_client.post(f"/api/v1/sessions/{session.pk}/answers/", DEEP, content_type="application/json")
    assert response.status_code == 400
    assert error_of(response) == {"code": "parse_error", "message": "The JSON is nested more than 32 levels deep."}


def test_a_deeply_nested_event_answer_is_a_400_not_a_crash(solver_client, event_player):
    body = DEEP.replace("{", f'{{"scenario_version": "{version_of(event_player).pk}", ', 1)
    response = solver_client.post(f"/api/v1/events/{event_player.pk}/answers/", body, content_type="application/json")
    assert response.status_code == 400
    assert error_of(response)["message"] == "The JSON is nested more than 32 levels deep."


def test_json_just_over_the_depth_limit_is_refused_and_at_the_limit_is_read(solver_client, session):
    url = f"/api/v1/sessions/{session.pk}/answers/"
    over = solver_client.post(url, nested(33), content_type="application/json")
    assert over.status_code == 400 and error_of(over)["code"] == "parse_error"
    at_limit = solver_client.post(url, nested(32), content_type="application/json")
    # Read, then refused by the grader: a list is not a flag.
    assert at_limit.status_code == 400 and error_of(at_limit)["code"] == "validation_failed"


def test_malformed_json_and_non_numbers_are_400s(solver_client, session):
    url = f"/api/v1/sessions/{session.pk}/answers/"
    broken = solver_client.post(url, '{"question_id": ', content_type="application/json")
    assert broken.status_code == 400 and error_of(broken)["code"] == "parse_error"
    nan = solver_client.post(url, '{"question_id": "q1", "answer": NaN}', content_type="application/json")
    assert nan.status_code == 400 and "NaN is not a JSON number" in error_of(nan)["message"]


def test_an_oversized_api_body_is_a_413_in_the_error_shape(solver_client):
    response = solver_client.post("/api/v1/playlists/", TWENTY_MB, content_type="application/json")
    assert response.status_code == 413
    assert error_of(response) == {
        "code": "request_too_large",
        "message": "The request body is larger than 10 MB; send less at once.",
    }


def test_an_oversized_form_body_is_a_413_in_the_error_shape(solver_client):
    body = b"title=" + b"x" * (11 * 1024 * 1024)
    response = solver_client.post("/api/v1/playlists/", body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413 and error_of(response)["code"] == "request_too_large"


def test_an_oversized_page_post_gets_a_413_page_with_the_reason(client):
    body = b"email=a%40b.test&password=" + b"x" * (11 * 1024 * 1024)
    response = client.post("/accounts/login/", body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/html")
    assert b"The request body is larger than 10 MB; send less at once." in response.content


def test_an_unknown_api_url_is_a_json_404(solver_client):
    response = solver_client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404 and error_of(response)["code"] == "not_found"


def test_a_request_for_another_host_is_a_clear_400_on_pages_and_api(client):
    page = client.get("/", HTTP_HOST="evil.example")
    assert page.status_code == 400 and page["Content-Type"].startswith("text/html")
    assert b"The Host header names a site this server does not serve." in page.content
    api = client.get("/api/v1/scenarios/", HTTP_HOST="evil.example")
    assert api.status_code == 400 and error_of(api)["code"] == "malformed_request"
