"""The scenarios API: catalog, ratings, favourites and a creator's versions, over token or session auth."""

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from apps.accounts.factories import CreatorFactory
from apps.accounts.services import api_token_create
from apps.scenarios.factories import draft_version, published_version, submitted_version
from apps.scenarios.models import ScenarioRating, ScenarioVersion, UserFavorite, VersionStatus

pytestmark = pytest.mark.django_db

FLAG = "RX{api-must-not-leak}"
SSH_PASSWORD = "api-ssh-password-hidden"
WRITEUP = "API writeup that stays private."


def _token_client(user) -> APIClient:
    _, raw = api_token_create(user=user, label="tests", expires_in_days=None)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_catalog_list_is_public_filtered_and_paginated(client, django_assert_max_num_queries):
    for i in range(14):
        published_version(slug=f"api-{i:02d}", category="web" if i % 2 else "crypto", tags=["api"])
    # Page count and page rows, plus room for system-settings cache misses (other test processes may flush
    # the shared Redis); the catalog queries themselves are counted exactly below.
    with django_assert_max_num_queries(10) as captured:
        response = APIClient().get("/api/v1/scenarios/")
    assert len([q for q in captured.captured_queries if "`scenario_version`" in q["sql"]]) == 2
    body = response.json()
    assert response.status_code == 200 and body["count"] == 14 and len(body["results"]) == 12
    assert body["next"] and set(body["results"][0]) >= {"slug", "title", "average_rating", "is_favorite"}
    crypto = APIClient().get("/api/v1/scenarios/", {"category": "crypto", "sort": "time"}).json()
    assert crypto["count"] == 7


def test_catalog_list_rejects_unknown_filter_values():
    response = APIClient().get("/api/v1/scenarios/", {"difficulty": "impossible"})
    assert response.status_code == 400
    assert "difficulty" in response.json()["error"]["fields"]


def test_catalog_detail_json_has_no_secrets(solver):
    published_version(
        slug="api-secret",
        solution_writeup=WRITEUP,
        solver_writeup="After-the-end walkthrough",
        questions=[{"id": "q1", "type": "flag", "prompt": "Flag?", "points": 5, "answer": FLAG, "match": "exact"}],
        machines=[
            {"name": "attacker"},
            {"name": "target", "role": "victim", "ssh_username": "root", "ssh_password": SSH_PASSWORD},
        ],
    )
    response = _token_client(solver).get("/api/v1/scenarios/api-secret/")
    assert response.status_code == 200
    text = response.content.decode()
    for secret in (
        FLAG,
        SSH_PASSWORD,
        WRITEUP,
        "After-the-end walkthrough",
        "solver_writeup",
        "ssh_password",
        "solution_writeup",
        "questions",
    ):
        assert secret not in text
    machines = [m["name"] for m in response.json()["topology"]["machines"]]
    assert sorted(machines) == ["attacker", "target"]


def test_unpublished_scenario_detail_is_404():
    draft_version(slug="api-draft")
    assert APIClient().get("/api/v1/scenarios/api-draft/").status_code == 404


def test_rating_before_playing_is_a_clear_403(solver):
    published_version(slug="api-rate-unplayed")
    response = _token_client(solver).put("/api/v1/scenarios/api-rate-unplayed/rating/", {"rating": 4}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["message"] == "You can rate this scenario once you have finished a session of it."
    assert not ScenarioRating.objects.exists()


@pytest.mark.parametrize("bad", [0, 6, "x", None])
def test_rating_out_of_range_is_a_clear_400(solver, bad):
    published_version(slug="api-rate-bad")
    response = _token_client(solver).put("/api/v1/scenarios/api-rate-bad/rating/", {"rating": bad}, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["message"] == "A rating is a whole number from 1 to 5." and "rating" in error["fields"]
    assert not ScenarioRating.objects.exists()


def test_rating_and_favourite_need_authentication():
    published_version(slug="api-anon")
    client = APIClient()
    assert client.put("/api/v1/scenarios/api-anon/rating/", {"rating": 5}, format="json").status_code in (401, 403)
    assert client.put("/api/v1/scenarios/api-anon/favorite/").status_code in (401, 403)


def test_favourite_put_and_delete_with_a_session(solver_client, solver):
    published_version(slug="api-fav")
    # The session client of the pages, with its CSRF cookie, as a browser script would call the API.
    client = APIClient(enforce_csrf_checks=False)
    client.cookies = solver_client.cookies
    response = client.put("/api/v1/scenarios/api-fav/favorite/")
    assert response.status_code == 200 and response.json() == {"slug": "api-fav", "is_favorite": True}
    assert UserFavorite.objects.filter(user=solver).count() == 1
    listed = client.get("/api/v1/scenarios/").json()["results"][0]
    assert listed["is_favorite"] is True
    assert client.delete("/api/v1/scenarios/api-fav/favorite/").json()["is_favorite"] is False
    assert not UserFavorite.objects.exists()


def test_creator_creates_lists_updates_and_submits_a_version(creator):
    client = _token_client(creator)
    created = client.post(
        "/api/v1/creator/versions/",
        {"slug": "api-new", "title": "API lab", "short_description": "Made by API", "category": "web"},
        format="json",
    )
    assert created.status_code == 201, created.content
    version_id = created.json()["id"]
    assert created.json()["status"] == "DRAFT" and created.json()["slug"] == "api-new"
    assert [v["id"] for v in client.get("/api/v1/creator/versions/").json()["results"]] == [version_id]
    patched = client.patch(f"/api/v1/creator/versions/{version_id}/", {"title": "Better title"}, format="json")
    assert patched.status_code == 200 and patched.json()["title"] == "Better title"
    # No machines and no questions yet: the submit validation names the fields.
    refused = client.post(f"/api/v1/creator/versions/{version_id}/submit/")
    assert refused.status_code == 400
    assert refused.json()["error"]["fields"]
    assert ScenarioVersion.objects.get(pk=version_id).status == VersionStatus.DRAFT


def test_creator_submits_a_ready_draft(creator):
    version = draft_version(creator=creator)
    response = _token_client(creator).post(f"/api/v1/creator/versions/{version.pk}/submit/")
    assert response.status_code == 200 and response.json()["status"] == "SUBMITTED"


def test_update_of_a_non_draft_is_409(creator):
    version = submitted_version(creator=creator)
    response = _token_client(creator).patch(f"/api/v1/creator/versions/{version.pk}/", {"title": "X"}, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "invalid_transition"


def test_invalid_update_names_the_field(creator):
    version = draft_version(creator=creator)
    response = _token_client(creator).patch(
        f"/api/v1/creator/versions/{version.pk}/", {"difficulty": "impossible"}, format="json"
    )
    assert response.status_code == 400 and "difficulty" in response.json()["error"]["fields"]


def test_another_creators_version_is_404(creator):
    theirs = draft_version(creator=CreatorFactory())
    client = _token_client(creator)
    assert client.get(f"/api/v1/creator/versions/{theirs.pk}/").status_code == 404
    assert client.patch(f"/api/v1/creator/versions/{theirs.pk}/", {"title": "Mine"}, format="json").status_code == 404
    assert client.post(f"/api/v1/creator/versions/{theirs.pk}/submit/").status_code == 404
    assert client.get("/api/v1/creator/versions/").json()["results"] == []


def test_a_slug_that_names_a_catalog_page_is_refused(creator):
    response = _token_client(creator).post(
        "/api/v1/creator/versions/",
        {"slug": "favorites", "title": "Favourites", "short_description": "Clash", "category": "web"},
        format="json",
    )
    assert response.status_code == 400
    assert "catalog page" in response.json()["error"]["fields"]["slug"][0]
    assert not ScenarioVersion.objects.exists()


def test_solvers_cannot_create_scenarios(solver):
    response = _token_client(solver).post(
        "/api/v1/creator/versions/",
        {"slug": "nope", "title": "Nope", "short_description": "No", "category": "web"},
        format="json",
    )
    assert response.status_code == 403


def test_schema_stays_valid_with_the_scenario_endpoints(solver_client, tmp_path):
    # --fail-on-warn turns any endpoint drf-spectacular cannot describe into an error.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
    response = solver_client.get("/api/schema/?format=json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/v1/scenarios/{slug}/rating/" in paths and "/api/v1/creator/versions/{id}/submit/" in paths
