"""RangeX's one log format: secrets scrubbed, a request id on every record, as text or as JSON.

``RANGEX_LOG_FORMAT=text`` (the default) writes ``time level logger [request id] message``;
``RANGEX_LOG_FORMAT=json`` writes one JSON object a line with the same fields. The web server, the
Celery worker and beat all log through the ``LOGGING`` of the settings (the worker does not take
over the root logger), so their lines look alike.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime

from rangex.core.context import current_request_id

_PATTERNS = [
    # RangeX personal API tokens.
    (re.compile(r"rx_[A-Za-z0-9]{6,}_[A-Za-z0-9_\-]{10,}"), "rx_[redacted]"),
    # Authorization headers and bearer tokens.
    (re.compile(r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?)(bearer|token|basic)?\s*[^\s\"',;]+"), r"\1[redacted]"),
    (re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._\-]+"), "Bearer [redacted]"),
    # key=value and "key": "value" forms of secret-looking keys.
    (
        re.compile(
            r"(?i)([\"']?\b(?:password|passwd|secret|token|api[_-]?key|access[_-]?key|answer|flag|otp|code)"
            r"[\"']?\s*[:=]\s*[\"']?)([^\"'&\s,}]+)"
        ),
        r"\1[redacted]",
    ),
    # Fernet ciphertext and typical flag formats.
    (re.compile(r"gAAAAA[A-Za-z0-9_\-=]{20,}"), "[ciphertext]"),
    (re.compile(r"\b[A-Za-z0-9_]{2,16}\{[^}\s]{4,}\}"), "[flag]"),
]


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        return True


class RequestIdFilter(logging.Filter):
    """Give every record the request id of its context (``-`` outside a request, task or socket)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", "-") == "-":
            # Django logs a 4xx/5xx answer after the middleware has left the request's context; the
            # request itself travels on the record.
            request = getattr(record, "request", None)
            record.request_id = getattr(request, "request_id", None) or current_request_id() or "-"
        return True


_factory_installed = False


def install_request_id_record_factory() -> None:
    """Stamp the request id on each record when it is made, in the context it is made in.

    A handler may run later or elsewhere (a queue, a test's capture); the record must carry the id
    of the code that logged it.
    """
    global _factory_installed
    if _factory_installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args, **kwargs):
        record = previous(*args, **kwargs)
        record.request_id = current_request_id() or "-"
        return record

    logging.setLogRecordFactory(factory)
    _factory_installed = True


# The attributes every LogRecord has; anything else a caller passed in ``extra`` is written too.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "request_id"}
# Django's request loggers pass the request object along: not something to write out.
_STANDARD |= {"request", "scope"}


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, request_id, process, extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
            "process": record.processName,
            "pid": record.process,
        }
        for key, value in vars(record).items():
            # Plain extras only, scrubbed like the message: structured ones (Celery's "data" of a
            # received task holds its arguments, where a reset link or token may travel) are left out.
            if key in _STANDARD or key.startswith("_"):
                continue
            if isinstance(value, str):
                entry[key] = redact(value)
            elif value is None or isinstance(value, (bool, int, float)):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = redact(self.formatException(record.exc_info))
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, default=str)
