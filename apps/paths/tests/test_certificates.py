"""Path certificates (page, PDF, verification link) and the opt-in path leaderboard."""

from __future__ import annotations

import pytest
from django.test import Client

from apps.accounts.factories import UserFactory, login_client
from apps.paths.factories import career_path, completed_session_row
from apps.paths.models import PathCertificate
from apps.scenarios.factories import published_version

pytestmark = pytest.mark.django_db


def _finished(user, path, versions):
    for version in versions:
        completed_session_row(user=user, version=version)


def test_a_finished_path_gives_a_certificate_page_pdf_and_verification_link():
    versions = [published_version(), published_version()]
    path = career_path(versions=versions, title="Blue team")
    learner = UserFactory(display_name="Cleo Cert")
    client = login_client(learner)
    unfinished = client.get(f"/paths/{path.pk}/certificate/", follow=True).content.decode()
    assert "Complete every item of Blue team to get its certificate." in unfinished
    assert not PathCertificate.objects.exists()

    _finished(learner, path, versions)
    assert "Get your certificate" in client.get(f"/paths/{path.pk}/").content.decode()
    page = client.get(f"/paths/{path.pk}/certificate/").content.decode()
    cert = PathCertificate.objects.get(user=learner, career_path=path)
    assert "Cleo Cert" in page and f"/paths/certificates/{cert.pk}/" in page
    assert client.get(f"/paths/{path.pk}/certificate/").status_code == 200
    assert PathCertificate.objects.count() == 1  # issued once

    pdf = client.get(f"/paths/certificates/{cert.pk}/certificate.pdf")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF-1.4")
    assert b"(Cleo Cert)" in pdf.content and f"/paths/certificates/{cert.pk}/".encode() in pdf.content
    # Only the learner downloads the PDF (it names them).
    assert login_client(UserFactory()).get(f"/paths/certificates/{cert.pk}/certificate.pdf").status_code == 404

    public = Client().get(f"/paths/certificates/{cert.pk}/").content.decode()
    assert "Valid certificate" in public and "Cleo Cert" in public and "Blue team" in public


def test_a_hidden_profile_certificate_reveals_only_validity_and_a_bad_link_is_not_valid():
    import uuid

    versions = [published_version()]
    path = career_path(versions=versions, title="Blue team")
    learner = UserFactory(display_name="Hidden Hal")
    learner.profile_public = False
    learner.save(update_fields=["profile_public"])
    _finished(learner, path, versions)
    login_client(learner).get(f"/paths/{path.pk}/certificate/")
    cert = PathCertificate.objects.get(user=learner)
    public = Client().get(f"/paths/certificates/{cert.pk}/").content.decode()
    assert "Valid certificate" in public and "Hidden Hal" not in public and str(learner.pk) not in public
    missing = Client().get(f"/paths/certificates/{uuid.uuid4()}/")
    assert missing.status_code == 404 and "Not valid." in missing.content.decode()


def test_the_path_leaderboard_lists_only_learners_who_opted_in():
    versions = [published_version(), published_version()]
    path = career_path(versions=versions, title="Blue team")
    fast, slow, shy = (UserFactory(display_name=n) for n in ("Fast Fay", "Slow Sam", "Shy Sue"))
    for user in (fast, slow, shy):
        user.show_on_path_leaderboards = user is not shy
        user.save(update_fields=["show_on_path_leaderboards"])
    _finished(fast, path, versions)
    _finished(slow, path, versions[:1])
    _finished(shy, path, versions)
    page = Client().get(f"/paths/{path.pk}/leaderboard/").content.decode()
    assert "Shy Sue" not in page
    assert page.index("Fast Fay") < page.index("Slow Sam")
    assert "2 of 2" in page and "1 of 2" in page
    response = login_client(slow).post(
        "/accounts/profile/",
        {"section": "profile", "profile-display_name": "Slow Sam", "profile-profile_public": "on"},
    )
    assert response.status_code in (200, 302)
    slow.refresh_from_db()
    assert not slow.show_on_path_leaderboards
    assert "Slow Sam" not in Client().get(f"/paths/{path.pk}/leaderboard/").content.decode()
