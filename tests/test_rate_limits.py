"""Rate limits: sign-in, answers, hints, lab starts and imports, per account and per address, on pages and API.

The suite runs with every rate far above what tests reach (``rangex.settings_test``); each test
here lowers the rate it is about, through the ``settings`` fixture.
"""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from apps.accounts.factories import PASSWORD, UserFactory, enable_2fa, login_client, totp_code
from apps.accounts.services import api_token_create
from apps.environments.models import EnvironmentSession
from apps.events import services as event_services
from apps.events.factories import make_event, version_of
from apps.paths.factories import running_session
from apps.scenarios.factories import published_version
from apps.scenarios.models import ScenarioVersion

pytestmark = pytest.mark.django_db


def rates(settings, **changes):
    settings.RANGEX_THROTTLE_RATES = {**settings.RANGEX_THROTTLE_RATES, **changes}


def flashed(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def login(client, email, password):
    return client.post("/accounts/login/", {"email": email, "password": password})


def test_sign_in_is_throttled_per_account_even_with_the_right_password(settings, solver):
    rates(settings, **{"login.user": "2/min"})
    for _ in range(2):
        assert login(Client(), solver.email.upper(), "wrong-password-x").status_code == 400
    refused = login(Client(), solver.email, PASSWORD)
    assert refused.status_code == 429
    assert b"Too many sign-in attempts from this account (at most 2/min); try again in" in refused.content
    assert "_auth_user_id" not in refused.wsgi_request.session
    # Another account from the same address is not held back.
    assert login(Client(), UserFactory().email, PASSWORD).status_code == 302


def test_sign_in_is_throttled_per_address_across_accounts(settings):
    rates(settings, **{"login.ip": "2/min"})
    client = Client(REMOTE_ADDR="198.51.100.9")
    for n in range(2):
        assert login(client, f"nobody{n}@example.test", "wrong-password-x").status_code == 400
    refused = login(client, UserFactory().email, PASSWORD)
    assert refused.status_code == 429 and b"from this address" in refused.content
    assert login(Client(REMOTE_ADDR="198.51.100.10"), UserFactory().email, PASSWORD).status_code == 302


def test_second_factor_codes_are_throttled_per_account(settings, solver):
    secret, _ = enable_2fa(solver)
    # The password and the codes share one budget per account.
    rates(settings, **{"login.user": "3/min"})
    client = Client()
    assert login(client, solver.email, PASSWORD).status_code == 302
    for _ in range(2):
        assert client.post("/accounts/2fa/verify/", {"code": "000000"}).status_code == 400
    refused = client.post("/accounts/2fa/verify/", {"code": totp_code(secret)})
    assert refused.status_code == 429 and b"Too many sign-in attempts" in refused.content
    assert "_auth_user_id" not in client.session


@pytest.fixture
def session(solver):
    return running_session(user=solver, version=published_version())


@pytest.fixture
def event_player(solver):
    event = make_event(allow_late_registration=True)
    event_services.event_register(event=event, user=solver)
    return event


def test_answers_on_the_session_page_are_throttled_with_a_message(settings, solver_client, session):
    rates(settings, **{"answer.user": "1/min"})
    url = f"/sessions/{session.pk}/answer/"
    first = solver_client.post(url, {"question_id": "q1", "answer": "no"}, headers={"HX-Request": "true"})
    assert first.status_code == 200 and b"Too many" not in first.content
    refused = solver_client.post(url, {"question_id": "q1", "answer": "RX{demo}"}, headers={"HX-Request": "true"})
    # The message shows in the question's own block, where the answer was typed.
    assert b"Too many answers from this account (at most 1/min); try again in" in refused.content
    session.refresh_from_db()
    assert session.score == 0
    plain = solver_client.post(url, {"question_id": "q1", "answer": "RX{demo}"})
    assert plain.status_code == 302 and flashed(plain)[0].startswith("Too many answers from this account")


def test_hints_on_the_session_page_are_throttled_with_a_message(settings, solver_client, session):
    rates(settings, **{"hint.user": "1/min"})
    url = f"/sessions/{session.pk}/hint/"
    solver_client.post(url, {"hint_id": "nope"})
    refused = solver_client.post(url, {"hint_id": "h1"})
    assert flashed(refused)[-1].startswith("Too many hints taken from this account")
    session.refresh_from_db()
    assert not session.answers.get("q1", {}).get("hints_taken")


def test_lab_starts_from_the_page_are_throttled_with_a_message(settings, solver_client):
    rates(settings, **{"session_start.user": "1/min"})
    version = published_version()
    other = published_version()
    assert solver_client.post(f"/sessions/start/{version.pk}/").status_code == 302
    refused = solver_client.post(f"/sessions/start/{other.pk}/")
    assert refused.status_code == 302 and flashed(refused)[-1].startswith("Too many lab starts from this account")
    assert not EnvironmentSession.objects.filter(scenario_version=other).exists()


def test_event_answers_and_lab_starts_from_the_pages_are_throttled(settings, solver, solver_client):
    rates(settings, **{"answer.user": "1/min", "session_start.user": "1/min"})
    event = make_event(allow_late_registration=True)
    event_services.event_register(event=event, user=solver)
    version = version_of(event)
    answer = f"/events/{event.pk}/challenges/{version.pk}/answer/"
    solver_client.post(answer, {"question_id": "q1", "answer": "no"})
    refused = solver_client.post(answer, {"question_id": "q1", "answer": "RX{one}"})
    assert flashed(refused)[-1].startswith("Too many answers from this account")
    play = f"/events/{event.pk}/challenges/{version.pk}/play/"
    solver_client.post(play)
    assert flashed(solver_client.post(play))[-1].startswith("Too many lab starts from this account")


def test_imports_are_throttled_with_a_429_page(settings, creator_client):
    rates(settings, **{"import.user": "1/hour"})
    upload = SimpleUploadedFile("challenge.yml", b"name: A\ncategory: misc\nflags:\n  - CTF{a}\n")
    assert creator_client.post("/studio/import/", {"bundle": upload}).status_code == 200
    again = SimpleUploadedFile("challenge.yml", b"name: B\ncategory: misc\nflags:\n  - CTF{b}\n")
    refused = creator_client.post("/studio/import/", {"bundle": again})
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert b"Too many imports from this account (at most 1/hour); try again in" in refused.content
    assert ScenarioVersion.objects.count() == 1


def test_a_json_body_to_the_import_page_gets_a_clear_415(creator_client):
    response = creator_client.post("/studio/import/", {"bundle": "x"}, content_type="application/json")
    assert response.status_code == 415
    assert b"Upload the bundle as a file: a multipart/form-data form" in response.content
    assert b"this request sent application/json" in response.content


def test_an_import_form_without_a_file_says_so(creator_client):
    response = creator_client.post("/studio/import/", {})
    assert response.status_code == 400 and b"This field is required." in response.content


def test_the_throttle_message_names_the_address_for_anonymous_callers(settings, client):
    rates(settings, **{"login.ip": "1/min", "login.user": "off"})
    login(client, "", "")
    refused = login(client, "", "")
    assert refused.status_code == 429 and b"Too many sign-in attempts from this address" in refused.content


def test_signed_in_pages_outside_the_scopes_are_never_throttled(settings, solver):
    rates(settings, **{"answer.user": "1/min", "answer.ip": "1/min", "session_start.user": "1/min"})
    client = login_client(solver)
    for _ in range(3):
        assert client.get("/sessions/").status_code == 200


# --- The API: JSON 429s in the error shape --------------------------------------------------------


def error_of(response) -> dict:
    assert response["Content-Type"] == "application/json", response.content[:200]
    return response.json()["error"]


def test_session_answers_are_throttled_per_account_with_a_json_429(settings, solver_client, session):
    rates(settings, **{"answer.user": "2/min"})
    url = f"/api/v1/sessions/{session.pk}/answers/"
    for _ in range(2):
        assert solver_client.post(url, {"question_id": "q1", "answer": "no"}, "application/json").status_code == 200
    refused = solver_client.post(url, {"question_id": "q1", "answer": "RX{demo}"}, "application/json")
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    error = error_of(refused)
    assert error["code"] == "throttled" and error["limit"] == "answer.user" and error["retry_after"] > 0
    assert error["message"].startswith("Too many answers from this account (at most 2/min); try again in ")
    session.refresh_from_db()
    assert session.score == 0 and not session.answers["q1"].get("correct")
    # Reading is not answering: the session itself stays readable.
    assert solver_client.get(f"/api/v1/sessions/{session.pk}/").status_code == 200


def test_event_answers_are_throttled_per_address_across_accounts(settings, event_player, solver_client):
    rates(settings, **{"answer.ip": "2/min"})
    other = UserFactory()
    event_services.event_register(event=event_player, user=other)
    body = {"scenario_version": str(version_of(event_player).pk), "question_id": "q1", "answer": "no"}
    url = f"/api/v1/events/{event_player.pk}/answers/"
    assert solver_client.post(url, body, "application/json").status_code == 200
    assert login_client(other).post(url, body, "application/json").status_code == 200
    refused = solver_client.post(url, body, "application/json")
    assert refused.status_code == 429 and error_of(refused)["limit"] == "answer.ip"
    assert "from this address" in error_of(refused)["message"]


def test_hints_and_session_starts_are_throttled_on_the_api(settings, solver_client, session):
    rates(settings, **{"hint.user": "1/min", "session_start.user": "1/min"})
    hints = f"/api/v1/sessions/{session.pk}/hints/"
    assert solver_client.post(hints, {"hint_id": "nope"}, "application/json").status_code == 404
    assert solver_client.post(hints, {"hint_id": "nope"}, "application/json").status_code == 429
    start = {"scenario_version": "00000000-0000-0000-0000-000000000000"}
    assert solver_client.post("/api/v1/sessions/", start, "application/json").status_code == 404
    refused = solver_client.post("/api/v1/sessions/", start, "application/json")
    assert refused.status_code == 429 and error_of(refused)["limit"] == "session_start.user"
    # Listing sessions is not starting one.
    assert solver_client.get("/api/v1/sessions/").status_code == 200


def test_every_api_request_counts_against_the_general_rates(settings, solver, client):
    rates(settings, **{"api.user": "2/min", "api.anon": "1/min"})
    _, raw = api_token_create(user=solver, label="script", expires_in_days=None)
    headers = {"Authorization": f"Bearer {raw}"}
    assert client.get("/api/v1/accounts/me/", headers=headers).status_code == 200
    assert client.get("/api/v1/accounts/me/", headers=headers).status_code == 200
    assert client.get("/api/v1/accounts/me/", headers=headers).status_code == 429
    assert client.get("/api/v1/scenarios/").status_code == 200
    anonymous = client.get("/api/v1/scenarios/")
    assert anonymous.status_code == 429 and error_of(anonymous)["limit"] == "api.anon"
