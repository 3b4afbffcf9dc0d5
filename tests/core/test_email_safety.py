"""Production refuses email that goes nowhere, and no mail body (a reset link) ever reaches a log."""

import re

import pytest
from django.core import mail
from django.test import Client

from tests.core.test_settings_core import _manage


def test_check_deploy_refuses_console_email_in_production_unless_allowed():
    refused = _manage("check", "--deploy", EMAIL_URL="")
    assert refused.returncode != 0
    assert "rangex.E001" in refused.stderr and "EMAIL_URL" in refused.stderr
    for env in ({"EMAIL_URL": "", "RANGEX_ALLOW_CONSOLE_EMAIL": "true"}, {}):
        done = _manage("check", "--deploy", **env)
        assert "rangex.E001" not in done.stdout + done.stderr
    assert "rangex.E001" in _manage("check", "--deploy", EMAIL_URL="dummymail://").stderr


def test_production_console_email_is_the_redacting_backend():
    shown = _manage(
        "shell", "--no-imports", "-c", "from django.conf import settings; print(settings.EMAIL_BACKEND)", EMAIL_URL=""
    )
    assert shown.stdout.strip() == "rangex.core.mail.RedactingConsoleBackend", shown.stderr


@pytest.mark.django_db
def test_a_password_reset_on_production_console_email_never_logs_the_link(settings, capsys, solver):
    settings.DEBUG = False
    settings.EMAIL_BACKEND = "rangex.core.mail.RedactingConsoleBackend"
    # Django's own console backend, as a control, prints the link.
    mail.get_connection("django.core.mail.backends.console.EmailBackend").send_messages(
        [mail.EmailMessage("x", "http://host/accounts/password/reset/abc/def-123/", to=[solver.email])]
    )
    assert "/password/reset/abc/" in capsys.readouterr().out
    response = Client().post("/accounts/password/reset/", {"email": solver.email})
    assert response.status_code in (200, 302)
    out = capsys.readouterr()
    printed = out.out + out.err
    assert solver.email in printed and "body withheld" in printed
    assert not re.search(r"/password/reset/[^/\s]+/[^/\s]+/", printed), printed
