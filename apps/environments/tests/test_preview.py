"""Preview: the creator and reviewers open the solver's page of any version; Start makes a test lab."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.accounts.factories import CreatorFactory, login_client
from apps.environments.models import EnvironmentSession
from apps.scenarios.factories import draft_version, submitted_version

pytestmark = pytest.mark.django_db


def preview_url(version):
    return reverse("scenarios:preview", args=[version.pk])


def start_url(version):
    return reverse("environments:preview_start", args=[version.pk])


def test_the_creator_previews_an_unpublished_version_without_starting_anything(creator, creator_client):
    version = draft_version(creator=creator, mission_text="# Hello\n\nSome **bold** mission.")
    response = creator_client.get(preview_url(version))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="preview-banner"' in page and "Preview" in page
    assert "<strong>bold</strong>" in page
    assert f'action="{start_url(version)}"' in page
    assert not EnvironmentSession.objects.exists()
    # The admin's version page links to it.
    admin_page = creator_client.get(reverse("admin:scenarios_scenarioversion_change", args=[version.pk]))
    assert f'href="{preview_url(version)}"' in admin_page.content.decode()


def test_a_reviewer_previews_a_submitted_version(admin_client_2fa):
    version = submitted_version()
    assert admin_client_2fa.get(preview_url(version)).status_code == 200


def test_nobody_else_can_preview_or_start_a_preview(solver_client):
    version = draft_version()
    other = login_client(CreatorFactory())
    for client in (solver_client, other):
        assert client.get(preview_url(version)).status_code == 404
        assert client.post(start_url(version)).status_code == 404
    assert not EnvironmentSession.objects.exists()


def test_start_in_a_preview_makes_a_test_session_for_the_creator(creator, creator_client):
    version = draft_version(creator=creator)
    response = creator_client.post(start_url(version))
    session = EnvironmentSession.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("environments:detail", args=[session.pk])
    assert session.is_test and session.user == creator and session.scenario_version == version
    lab = creator_client.get(response["Location"])
    assert lab.status_code == 200 and 'id="test-lab-banner"' in lab.content.decode()

    # One preview lab at a time for a creator.
    other = draft_version(creator=creator)
    response = creator_client.post(start_url(other), follow=True)
    assert "already have a preview lab running" in response.content.decode()
    assert EnvironmentSession.objects.count() == 1


def test_the_start_service_lets_only_the_creator_and_admins_start_a_test_lab(admin_user):
    from apps.environments import services
    from rangex.core.errors import PermissionDenied

    version = draft_version()
    with pytest.raises(PermissionDenied):
        services.env_session_start(user=CreatorFactory(), version=version, is_test=True)
    session = services.env_session_start(user=admin_user, version=version, is_test=True)
    assert session.is_test


def test_the_answer_box_placeholder_follows_the_questions_own_flag_format(solver, solver_client):
    from apps.environments import services
    from apps.scenarios.factories import published_version

    questions = [
        {"id": "q1", "type": "flag", "prompt": "Flag?", "points": 5,
         "flags": [{"type": "static", "content": "CTF{hidden}", "case_insensitive": False}]},
        {"id": "q2", "type": "numeric", "prompt": "How many?", "points": 5, "answer": 2, "tolerance": 0},
    ]  # fmt: skip
    version = published_version(requires_machines=False, machines=[], questions=questions, hints=[])
    session = services.env_session_start(user=solver, version=version)
    page = solver_client.get(reverse("environments:detail", args=[session.pk])).content.decode()
    assert 'placeholder="CTF{...}"' in page
    assert "RX{...}" not in page
