"""Logs never carry secrets, tokens or answers."""

import logging

from rangex.core.logging import RedactSecretsFilter, redact


def test_redaction_of_tokens_passwords_flags_and_ciphertext():
    text = (
        "Authorization: Bearer rx_abc123def456_SECRETSECRETSECRET password=hunter2 "
        '{"answer": "RANGEX{deadbeefcafe}"} token=abcdef gAAAAABlongciphertextvalue1234567890'
    )
    cleaned = redact(text)
    for secret in ("SECRETSECRET", "hunter2", "deadbeefcafe", "abcdef", "longciphertext"):
        assert secret not in cleaned


def test_filter_rewrites_log_records():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "login with password=%s", ("hunter2",), None)
    RedactSecretsFilter().filter(record)
    assert "hunter2" not in record.getMessage()
