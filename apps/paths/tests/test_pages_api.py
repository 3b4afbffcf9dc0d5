import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.accounts.factories import UserFactory
from apps.paths.factories import career_path, completed_session_row, playlist
from apps.paths.models import Playlist, PlaylistItem
from apps.scenarios.factories import draft_version, published_version

pytestmark = pytest.mark.django_db


def _path_with(n, user):
    versions = [published_version() for _ in range(n)]
    for v in versions[: n // 2]:
        completed_session_row(user=user, version=v)
    return career_path(versions=versions, title=f"Path {n}")


def _queries(client, url) -> int:
    """Return how many queries a GET of ``url`` makes, leaving out the system-settings cache refill.

    The settings row is cached with a short lifetime, so whether a request reloads it depends on timing.
    """
    client.get(url)
    # A full query log (9000 entries, reached in long runs) would make the captured slice empty.
    connection.queries_log.clear()
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    count = len([q for q in ctx.captured_queries if "`system_settings`" not in q["sql"]])
    assert count > 0
    return count


def test_path_pages_query_count_does_not_grow_with_items(solver, solver_client):
    small = _path_with(2, solver)
    small_count = _queries(solver_client, f"/paths/{small.pk}/")
    assert small_count <= 10
    big = _path_with(6, solver)
    assert _queries(solver_client, f"/paths/{big.pk}/") == small_count
    assert "3 of 6 completed" in solver_client.get(f"/paths/{big.pk}/").content.decode()

    # Empty querysets skip their prefetch, so the baseline holds one playlist too.
    playlist(owner=solver, versions=[published_version()], title="First")
    list_count = _queries(solver_client, "/paths/")
    assert list_count <= 12
    career_path(versions=[published_version(), published_version()], title="Another")
    playlist(owner=solver, versions=[published_version()])
    assert _queries(solver_client, "/paths/") == list_count
    assert "Another" in solver_client.get("/paths/").content.decode()


def test_catalog_page_offers_add_to_playlist(solver, solver_client):
    v = published_version()
    page = solver_client.get(f"/scenarios/{v.scenario.slug}/")
    assert "Add to playlist" in page.content.decode()
    response = solver_client.post("/paths/playlists/add/", {"version": str(v.pk), "title": "Later"})
    assert response.status_code == 302
    assert PlaylistItem.objects.filter(playlist__owner_user=solver, scenario_version=v).exists()


def test_adding_a_draft_to_a_new_playlist_creates_no_playlist(solver, solver_client):
    response = solver_client.post("/paths/playlists/add/", {"version": str(draft_version().pk), "title": "Later"})
    assert response.status_code == 404
    assert not Playlist.objects.filter(owner_user=solver).exists()


def test_another_users_private_playlist_is_a_404_on_pages_and_api(solver, solver_client):
    pl = playlist(owner=UserFactory(), versions=[published_version()])
    assert solver_client.get(f"/paths/playlists/{pl.pk}/").status_code == 404
    assert solver_client.get(f"/api/v1/playlists/{pl.pk}/").status_code == 404
    response = solver_client.post(
        f"/api/v1/playlists/{pl.pk}/items/", {"scenario_version": str(published_version().pk)}
    )
    assert response.status_code == 404


def test_playlist_api_bad_input_gets_clear_4xx(solver, solver_client):
    a, b = published_version(), published_version()
    response = solver_client.post("/api/v1/playlists/", {"title": "Mine"}, content_type="application/json")
    assert response.status_code == 201
    pk = response.json()["id"]
    items = f"/api/v1/playlists/{pk}/items/"
    assert (
        solver_client.post(items, {"scenario_version": str(a.pk)}, content_type="application/json").status_code == 201
    )
    dup = solver_client.post(items, {"scenario_version": str(a.pk)}, content_type="application/json")
    assert dup.status_code == 400 and "already" in dup.json()["error"]["message"]
    draft = solver_client.post(items, {"scenario_version": str(draft_version().pk)}, content_type="application/json")
    assert draft.status_code == 404
    body = solver_client.post(items, {"scenario_version": str(b.pk)}, content_type="application/json").json()
    item_id = body["items"][1]["id"]
    bad_move = solver_client.patch(f"{items}{item_id}/", {"position": 7}, content_type="application/json")
    assert bad_move.status_code == 400 and "Position" in bad_move.json()["error"]["message"]
    moved = solver_client.patch(f"{items}{item_id}/", {"position": 1}, content_type="application/json").json()
    assert [i["scenario_version"] for i in moved["items"]] == [str(b.pk), str(a.pk)]
    completed_session_row(user=solver, version=b)
    detail = solver_client.get(f"/api/v1/playlists/{pk}/").json()
    assert detail["progress"] == {"completed": 1, "total": 2, "percent": 50, "next_item": moved["items"][1]["id"]}


def test_public_path_api_refuses_nothing_to_solvers_but_hides_private_paths(solver, solver_client):
    public = career_path(versions=[published_version()])
    hidden = career_path(versions=[published_version()], is_public=False)
    ids = [p["id"] for p in solver_client.get("/api/v1/paths/").json()["results"]]
    assert ids == [str(public.pk)]
    assert solver_client.get(f"/api/v1/paths/{hidden.pk}/").status_code == 404


def test_shared_playlist_hides_the_name_of_an_owner_with_a_private_profile(solver_client):
    shy, open_ = UserFactory(display_name="Shy Person"), UserFactory(display_name="Open Person")
    shy.profile_public = False
    shy.save(update_fields=["profile_public"])
    playlist(owner=shy, versions=[published_version()], is_public=True, title="Shy list")
    playlist(owner=open_, versions=[published_version()], is_public=True, title="Open list")
    page = solver_client.get("/paths/").content.decode()
    assert "Shy list" in page and "Shy Person" not in page
    assert "Open Person</a>" in page
