"""System checks of the kernel's configuration, run by ``manage.py check`` (the deploy ones with ``--deploy``)."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, register

UNSAFE_EMAIL_BACKENDS = {
    "django.core.mail.backends.console.EmailBackend": "printed to the console (the process's log)",
    "rangex.core.mail.RedactingConsoleBackend": "printed to the console without bodies, so nobody receives it",
    "django.core.mail.backends.filebased.EmailBackend": "written to files",
    "django.core.mail.backends.dummy.EmailBackend": "discarded",
    "django.core.mail.backends.locmem.EmailBackend": "kept in memory",
}


@register(Tags.security, deploy=True)
def check_email_backend(app_configs=None, **kwargs) -> list[Error]:
    """Refuse a production install whose email never reaches anyone, unless the operator allowed it."""
    if settings.DEBUG or getattr(settings, "RANGEX_ALLOW_CONSOLE_EMAIL", False):
        return []
    fate = UNSAFE_EMAIL_BACKENDS.get(settings.EMAIL_BACKEND)
    if fate is None:
        return []
    return [
        Error(
            f"Email is {fate}: password resets and verification mails never reach their users.",
            hint="Set EMAIL_URL (e.g. smtp+tls://user:password@mail.example.org:587), or set "
            "RANGEX_ALLOW_CONSOLE_EMAIL=true to accept mail going nowhere (bodies are never logged).",
            id="rangex.E001",
        )
    ]
