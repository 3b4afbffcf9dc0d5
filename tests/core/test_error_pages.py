"""Error pages in the site's style, JSON for API clients; the favicon; the admin index (issue 17)."""

import pytest
from django.contrib.staticfiles import finders
from django.test import RequestFactory
from django.urls import reverse

from apps.scenarios.factories import submitted_version
from rangex.core.error_views import server_error

pytestmark = pytest.mark.django_db

REVIEW_QUEUE = "admin:scenarios_scenarioversion_review_queue"


def test_a_forbidden_page_is_shown_in_the_site_style_with_the_reason(creator_client):
    response = creator_client.get(reverse(REVIEW_QUEUE))

    assert response.status_code == 403
    content = response.content.decode()
    assert 'id="error-page" data-status="403"' in content and "Not allowed" in content
    assert 'class="navbar-brand' in content and "403 Forbidden" not in content


def test_a_forbidden_page_tells_a_solver_why(solver_client):
    response = solver_client.get("/studio/import/")

    assert response.status_code == 403
    assert b"Only creators and admins may import scenarios." in response.content
    assert b'data-status="403"' in response.content


def test_a_forbidden_request_of_an_api_client_is_json(creator_client):
    response = creator_client.get(reverse(REVIEW_QUEUE), HTTP_ACCEPT="application/json")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_an_unknown_page_is_a_friendly_404_with_a_way_on(client):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    content = response.content.decode()
    assert 'data-status="404"' in content and "Browse scenarios" in content and 'class="navbar-brand' in content
    assert client.get("/api/v1/no-such-endpoint/").json()["error"]["code"] == "not_found"


def test_the_server_error_page_uses_the_site_style_and_the_api_gets_json():
    page = server_error(RequestFactory().get("/scenarios/"))
    assert page.status_code == 500
    assert b"bootstrap.min.css" in page.content and b'data-status="500"' in page.content

    api = server_error(RequestFactory().get("/api/v1/scenarios/"))
    assert api.status_code == 500 and b'"code": "server_error"' in api.content


def test_favicon_ico_is_served_from_the_static_icon(client):
    response = client.get("/favicon.ico")

    assert response.status_code == 302 and response["Location"].endswith("favicon.ico")
    assert finders.find("img/favicon.ico") and finders.find("img/favicon.svg")
    assert b'rel="icon"' in client.get("/").content


def test_admin_index_names_system_settings_once_and_links_the_review_queue(admin_client_2fa):
    submitted_version()
    content = admin_client_2fa.get("/admin/").content.decode()

    assert content.count(">System settings<") == 1
    assert "Key-value settings" in content
    assert f'href="{reverse(REVIEW_QUEUE)}"' in content and "1 version waiting" in content


def test_creators_admin_index_has_no_review_queue_link(creator_client):
    assert reverse(REVIEW_QUEUE) not in creator_client.get("/admin/").content.decode()
