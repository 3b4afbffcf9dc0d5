"""A logging filter that scrubs secrets from every record before it is written."""

from __future__ import annotations

import logging
import re

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
