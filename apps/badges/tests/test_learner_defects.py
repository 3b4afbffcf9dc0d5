"""Issue 26's defects on paths, playlists, badges and tokens, one test each."""

from __future__ import annotations

import pytest
from django.test import Client

from apps.accounts.factories import UserFactory, login_client
from apps.badges import services as badge_services
from apps.paths.factories import career_path, completed_session_row, playlist
from apps.scenarios.factories import published_version

pytestmark = pytest.mark.django_db


def test_adding_a_scenario_twice_names_its_title_not_its_slug(solver, solver_client):
    version = published_version(title="First Steps")
    pl = playlist(owner=solver, versions=[version])
    response = solver_client.post("/paths/playlists/add/", {"version": version.pk, "playlist": pl.pk}, follow=True)
    text = response.content.decode()
    assert "First Steps is already in this playlist." in text
    assert version.scenario.slug not in text.split("already in")[0][-80:]


def test_making_a_playlist_public_says_so_labels_it_and_gives_its_link(solver, solver_client):
    pl = playlist(owner=solver, versions=[published_version()], title="Recon drills")
    page = solver_client.post(f"/paths/playlists/{pl.pk}/share/", {"public": "1"}, follow=True).content.decode()
    link = f"http://testserver/paths/playlists/{pl.pk}/"
    assert f"Recon drills is public now: anyone with the link {link} can see it." in page
    assert '<span class="badge text-bg-info">public</span>' in page
    assert f'id="share-link" readonly value="{link}"' in page
    page = solver_client.post(f"/paths/playlists/{pl.pk}/share/", {"public": "0"}, follow=True).content.decode()
    assert "Recon drills is private now" in page


def test_a_public_playlist_names_its_author(solver):
    author = UserFactory(display_name="Ada Author")
    pl = playlist(owner=author, versions=[published_version()], is_public=True, title="Ada's list")
    page = login_client(solver).get(f"/paths/playlists/{pl.pk}/").content.decode()
    assert "Playlist by" in page and "Ada Author</a>" in page
    author.profile_public = False
    author.save(update_fields=["profile_public"])
    page = login_client(solver).get(f"/paths/playlists/{pl.pk}/").content.decode()
    assert "Ada Author" not in page and "by a RangeX learner" in page


def test_signed_out_paths_show_no_progress_counts():
    career_path(versions=[published_version(), published_version()], title="Web basics")
    page = Client().get("/paths/").content.decode()
    assert "Web basics" in page and "2 scenarios" in page and "0 of 2 completed" not in page


def test_the_paths_api_is_paginated_like_the_catalog(solver, solver_client):
    for n in range(3):
        career_path(versions=[published_version()], title=f"Path {n}")
    body = solver_client.get("/api/v1/paths/").json()
    assert body["count"] == 3 and body["next"] is None
    assert [p["title"] for p in body["results"]] == ["Path 0", "Path 1", "Path 2"]
    assert solver_client.get("/api/v1/playlists/").json()["count"] == 0


def test_badges_api_is_public_and_me_badges_lists_my_own(solver, solver_client):
    from apps.accounts.factories import AdminFactory

    version = published_version()
    badge = badge_services.badge_create(
        actor=AdminFactory(), name="Starter", description="Well done.",
        requirements=[{"requirement_type": "complete_scenario", "scenario": version}],
    )  # fmt: skip
    anonymous = Client()
    assert anonymous.get("/api/v1/badges/").status_code == 200
    assert anonymous.get(f"/api/v1/badges/{badge.pk}/").json()["name"] == "Starter"
    assert anonymous.get("/api/v1/me/badges/").status_code in (401, 403)
    solver.profile_public = False
    solver.save(update_fields=["profile_public"])
    completed_session_row(user=solver, version=version)
    badge_services.badges_evaluate_for(user=solver, trigger="test")
    mine = solver_client.get("/api/v1/me/badges/").json()
    assert [row["badge"]["name"] for row in mine] == ["Starter"]


def test_revoking_a_token_asks_first(solver, solver_client):
    from apps.accounts import services as account_services

    account_services.api_token_create(user=solver, label="ci", expires_in_days=None)
    page = solver_client.get("/accounts/tokens/").content.decode()
    assert 'data-confirm="Revoke the token “ci”?' in page


def test_a_wrong_password_marks_the_field_invalid_and_ties_the_error_to_it(solver):
    page = Client().post("/accounts/login/", {"email": solver.email, "password": "not it"}).content.decode()
    assert 'aria-invalid="true"' in page and 'aria-describedby="id_password_error"' in page
    assert 'id="id_password_error"' in page


def test_accessibility_markup_fixes(solver, solver_client):
    from apps.environments.factories import quiz_version
    from rangex.core.models import NotificationType
    from rangex.core.notifications import notification_send

    quiz_version(title="Rated one")
    catalog = solver_client.get("/scenarios/").content.decode()
    assert 'role="img" aria-label="Rated' in catalog
    assert "btn-outline-warning" not in catalog.split("My favourites")[0][-200:]
    labs = solver_client.get("/sessions/").content.decode()
    assert '<th scope="col"></th>' not in labs
    notification_send(user=solver, type=NotificationType.SYSTEM, title="Hello", link="/paths/")
    notices = solver_client.get("/accounts/notifications/").content.decode()
    assert "list-group-item-primary" not in notices and ">new</span>" in notices
    tokens = solver_client.get("/accounts/tokens/").content.decode()
    assert '<div class="table-responsive">' in tokens
