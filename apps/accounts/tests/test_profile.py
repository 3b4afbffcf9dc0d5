"""Profile, avatar checks, preferences, and notifications with their email preference."""

import io

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from apps.accounts.services import user_set_preferences
from rangex.core.models import Notification, NotificationType
from rangex.core.notifications import notification_send

pytestmark = pytest.mark.django_db


def _png(size=(64, 64)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "red").save(out, format="PNG")
    return out.getvalue()


def test_avatar_upload_is_reencoded(solver_client, solver):
    upload = SimpleUploadedFile("me.png", _png((1024, 800)), content_type="image/png")
    response = solver_client.post("/accounts/profile/", {"section": "avatar", "avatar-avatar": upload})
    assert response.status_code == 302
    solver.refresh_from_db()
    with solver.avatar.open("rb") as fh:
        image = Image.open(fh)
        assert max(image.size) == 512


def test_non_image_avatar_is_refused(solver_client, solver):
    upload = SimpleUploadedFile("me.png", b"<?php system($_GET['c']); ?>", content_type="image/png")
    response = solver_client.post("/accounts/profile/", {"section": "avatar", "avatar-avatar": upload})
    assert response.status_code == 400
    assert b"not an image we can read" in response.content
    solver.refresh_from_db()
    assert not solver.avatar


def test_oversize_avatar_is_refused(solver_client, settings):
    settings.ACCOUNT_AVATAR_MAX_BYTES = 2048
    upload = SimpleUploadedFile("big.png", _png((400, 400)) + b"\0" * 4096, content_type="image/png")
    response = solver_client.post("/accounts/profile/", {"section": "avatar", "avatar-avatar": upload})
    assert response.status_code == 400
    assert b"larger than" in response.content


def test_profile_form_rejects_overlong_values(solver_client):
    response = solver_client.post("/accounts/profile/", {"section": "profile", "profile-display_name": "x" * 300})
    assert response.status_code == 400


def test_notification_is_emailed_only_when_the_preference_says_so(solver, django_capture_on_commit_callbacks):
    user_set_preferences(user=solver, email_types={NotificationType.BADGE}, theme="dark")
    solver.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        notification_send(user=solver, type=NotificationType.BADGE, title="You earned a badge")
        notification_send(user=solver, type=NotificationType.TEAM, title="Team news")
    assert [m.subject for m in mail.outbox] == ["[RangeX] You earned a badge"]
    assert Notification.objects.filter(user=solver).count() == 2


def test_unread_count_shows_in_the_navigation_and_marking_read_clears_it(solver_client, solver):
    notification_send(user=solver, type=NotificationType.SYSTEM, title="Hello")
    page = solver_client.get("/")
    assert page.context["unread_notifications"] == 1
    solver_client.post("/accounts/notifications/read/")
    assert solver_client.get("/").context["unread_notifications"] == 0


def test_theme_preference_is_rendered(solver_client, solver):
    user_set_preferences(user=solver, email_types=set(), theme="dark")
    assert b'data-bs-theme="dark"' in solver_client.get("/").content
