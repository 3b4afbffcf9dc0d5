"""Notifications, emails and operators' alerts are written in the recipient's language."""

import pytest
from django.core import mail
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy

from apps.accounts.factories import UserFactory
from apps.accounts.services import user_set_language, user_set_preferences
from apps.ops.alerts import alert_send
from rangex.core.models import NotificationType
from rangex.core.notifications import email_send, notification_send
from rangex.core.system import system_settings_update

pytestmark = pytest.mark.django_db

# Strings of the catalog and their Malay (locale/ms/LC_MESSAGES/django.po).
TITLE = gettext_lazy("Please confirm your email address; we sent you a link.")
TITLE_MS = "Sila sahkan alamat e-mel anda; kami telah menghantar pautan kepada anda."


def _emailing(user, notification_type):
    user_set_preferences(user=user, email_types={notification_type}, theme="auto")
    user.refresh_from_db()
    return user


def test_a_malay_user_gets_a_malay_notification_and_email(django_capture_on_commit_callbacks):
    malay = _emailing(user_set_language(user=UserFactory(), language="ms"), NotificationType.BADGE)
    english = _emailing(UserFactory(), NotificationType.BADGE)
    body = format_lazy("{} · {}", gettext_lazy("Profile"), gettext_lazy("Badges and progress"))
    with django_capture_on_commit_callbacks(execute=True):
        ms_note = notification_send(user=malay, type=NotificationType.BADGE, title=TITLE, body=body, link="/badges/")
        en_note = notification_send(user=english, type=NotificationType.BADGE, title=TITLE, body=body)
    assert ms_note.title == TITLE_MS
    assert ms_note.body == "Profil · Lencana dan kemajuan"
    assert en_note.title == str(TITLE)
    by_address = {message.to[0]: message for message in mail.outbox}
    assert by_address[malay.email].subject == f"[RangeX] {TITLE_MS}"
    assert by_address[malay.email].body.startswith("Profil · Lencana dan kemajuan\n\nhttp://testserver/badges/")
    assert by_address[english.email].subject == f"[RangeX] {TITLE}"


def test_email_send_uses_the_language_of_the_account_behind_the_address(django_capture_on_commit_callbacks):
    malay = user_set_language(user=UserFactory(), language="ms")
    with django_capture_on_commit_callbacks(execute=True):
        email_send(to=malay.email.upper(), subject=TITLE, body=gettext_lazy("Sign in"))
        email_send(to="nobody@example.test", subject=TITLE, body=gettext_lazy("Sign in"))
    subjects = {message.to[0].lower(): (message.subject, message.body) for message in mail.outbox}
    assert subjects[malay.email] == (TITLE_MS, "Log masuk")
    assert subjects["nobody@example.test"] == (str(TITLE), "Sign in")


def test_alerts_are_written_in_each_admins_language(django_capture_on_commit_callbacks):
    malay = user_set_language(user=UserFactory(role_admin=True), language="ms")
    system_settings_update(actor=None, admin_emails=f"{malay.email}, ops@example.test")
    with django_capture_on_commit_callbacks(execute=True):
        rows = alert_send(alert_type="health", subject=TITLE, message=gettext_lazy("Sign in"), link="/admin/")
    by_recipient = {row.recipient: row for row in rows}
    assert by_recipient[malay.email].subject == TITLE_MS
    assert by_recipient[malay.email].message.startswith("Log masuk\n\nInstans: ")
    assert "Pentadbir: http://testserver/admin/" in by_recipient[malay.email].message
    assert by_recipient["ops@example.test"].subject == str(TITLE)
    assert "Admin: http://testserver/admin/" in by_recipient["ops@example.test"].message
