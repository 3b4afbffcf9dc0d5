"""Email backends of the kernel: a console backend that never writes a message's body to the log.

With ``DEBUG`` off the console backend is swapped for ``RedactingConsoleBackend`` (see settings):
a password-reset link, a verification code or an invitation must never reach a log, whoever reads
it. The deploy check ``rangex.E001`` refuses the console backend in production unless the operator
allows it with ``RANGEX_ALLOW_CONSOLE_EMAIL=true``; even then only the envelope is printed.
"""

from __future__ import annotations

from django.core.mail.backends.console import EmailBackend as ConsoleBackend


class RedactingConsoleBackend(ConsoleBackend):
    """Print who a message goes to and its subject; withhold the body and attachments."""

    def write_message(self, message):
        recipients = ", ".join(message.recipients())
        self.stream.write(
            f"Email not sent (no EMAIL_URL): to {recipients}; subject {message.subject!r}; "
            "body withheld, as it may carry a link or code.\n"
        )
