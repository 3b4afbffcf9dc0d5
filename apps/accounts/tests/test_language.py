"""The language of pages and emails: the account's preference, then the cookie, then the browser."""

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client

from apps.accounts.factories import UserFactory, login_client
from apps.accounts.services import user_set_language

pytestmark = pytest.mark.django_db

COOKIE = settings.LANGUAGE_COOKIE_NAME


def _lang(response) -> str:
    return response.headers["Content-Language"]


def test_visitors_get_the_browsers_language_then_the_cookie(client):
    assert _lang(client.get("/", HTTP_ACCEPT_LANGUAGE="ms,en;q=0.5")) == "ms"
    assert _lang(client.get("/", HTTP_ACCEPT_LANGUAGE="fr")) == "en"
    client.cookies[COOKIE] = "ms"
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    assert _lang(response) == "ms"
    assert 'lang="ms"' in response.content.decode()
    assert "Log masuk" in response.content.decode()  # the header's "Sign in"


def test_the_header_switcher_sets_the_cookie_and_goes_back(client):
    response = client.post("/i18n/setlang/", {"language": "ms", "next": "/scenarios/"})
    assert response.status_code == 302
    assert response["Location"] == "/scenarios/"
    assert response.cookies[COOKIE].value == "ms"


def test_the_switcher_is_a_csrf_protected_form_in_the_header(client):
    strict = Client(enforce_csrf_checks=True)
    assert strict.post("/i18n/setlang/", {"language": "ms", "next": "/"}).status_code == 403
    page = client.get("/").content.decode()
    assert 'action="/i18n/setlang/"' in page
    assert 'name="csrfmiddlewaretoken"' in page
    assert '<option value="ms" lang="ms">Bahasa Melayu</option>' in page
    assert "/jsi18n/" in page


def test_switching_while_signed_in_saves_the_preference(solver, solver_client):
    response = solver_client.post("/i18n/setlang/", {"language": "ms", "next": "/"})
    assert response.status_code == 302
    solver.refresh_from_db()
    assert solver.language == "ms"
    assert response.cookies[COOKIE].value == "ms"


def test_the_preference_beats_the_cookie_and_the_browser(solver):
    user_set_language(user=solver, language="ms")
    client = login_client(solver)
    client.cookies[COOKIE] = "en"
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    assert _lang(response) == "ms"
    # The cookie follows the account, so the choice holds after signing out.
    assert response.cookies[COOKIE].value == "ms"


def test_signing_in_sets_the_cookie_to_the_preference(password):
    user = user_set_language(user=UserFactory(), language="ms")
    client = Client()
    response = client.post("/accounts/login/", {"email": user.email, "password": password})
    assert response.status_code == 302
    assert response.cookies[COOKIE].value == "ms"


def test_the_profile_edits_the_language(solver, solver_client):
    page = solver_client.get("/accounts/profile/").content.decode()
    assert 'name="profile-language"' in page
    assert "Follow my browser" in page
    data = {"section": "profile", "profile-display_name": "Aina", "profile-language": "ms"}
    response = solver_client.post("/accounts/profile/", data)
    assert response.status_code == 302
    assert response.cookies[COOKIE].value == "ms"
    solver.refresh_from_db()
    assert solver.language == "ms"
    assert _lang(solver_client.get("/accounts/profile/", HTTP_ACCEPT_LANGUAGE="en")) == "ms"
    # "Follow my browser" drops the cookie too.
    data["profile-language"] = ""
    response = solver_client.post("/accounts/profile/", data)
    assert response.status_code == 302
    assert response.cookies[COOKIE].value == ""
    solver.refresh_from_db()
    assert solver.language == ""
    assert _lang(solver_client.get("/", HTTP_ACCEPT_LANGUAGE="en")) == "en"


def test_an_unknown_language_is_refused(solver):
    from rangex.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        user_set_language(user=solver, language="xx")


def test_password_reset_email_is_in_the_recipients_language(client):
    malay = user_set_language(user=UserFactory(), language="ms")
    english = UserFactory()
    # The request's language is English: each email follows its recipient, not the requester.
    for user in (malay, english):
        response = client.post("/accounts/password/reset/", {"email": user.email}, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 302
    by_address = {message.to[0]: message for message in mail.outbox}
    assert by_address[malay.email].subject == "Tetapkan semula kata laluan RangeX anda"
    assert "Pilih kata laluan baharu di sini:" in by_address[malay.email].body
    assert by_address[english.email].subject == "Reset your RangeX password"
    assert "Choose a new password here:" in by_address[english.email].body


def test_the_javascript_catalog_answers_in_each_language(client):
    response = client.get("/jsi18n/", HTTP_ACCEPT_LANGUAGE="ms")
    assert response.status_code == 200
    assert "django.gettext" in response.content.decode() or "gettext" in response.content.decode()
    assert response["Content-Type"].startswith("text/javascript")


def test_the_admin_loads_the_javascript_catalog_and_speaks_malay(admin_client_2fa):
    response = admin_client_2fa.get("/admin/", HTTP_ACCEPT_LANGUAGE="ms")
    assert response.status_code == 200
    page = response.content.decode()
    assert '<script src="/jsi18n/"></script>' in page
    assert 'lang="ms"' in page
    assert "Log keluar" in page  # Django's own Malay catalog: "Log out"
    # Overrides below the base still apply: the sidebar of templates/admin/nav_sidebar.html.
    page = admin_client_2fa.get("/admin/accounts/user/", HTTP_ACCEPT_LANGUAGE="ms").content.decode()
    assert 'id="nav-sidebar"' in page
    assert '<script src="/jsi18n/"></script>' in page


def test_signing_up_in_malay_makes_malay_the_accounts_language(client):
    from apps.accounts.models import User

    client.cookies[COOKIE] = "ms"
    data = {
        "email": "aina@example.test",
        "display_name": "Aina",
        "password": "a-long-passphrase-77",
        "password_confirm": "a-long-passphrase-77",
    }
    assert client.post("/accounts/signup/", data).status_code == 302
    assert User.objects.get(email="aina@example.test").language == "ms"
    english = Client()
    data = {**data, "email": "ann@example.test"}
    assert english.post("/accounts/signup/", data, HTTP_ACCEPT_LANGUAGE="en").status_code == 302
    assert User.objects.get(email="ann@example.test").language == ""


def test_the_api_answers_a_token_in_its_owners_language(solver):
    from rest_framework.test import APIClient

    from apps.accounts.services import api_token_create

    user_set_language(user=solver, language="ms")
    _token, raw = api_token_create(user=solver, label="cli", expires_in_days=30)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    response = client.get("/api/v1/accounts/me/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert response["Content-Language"] == "ms"
