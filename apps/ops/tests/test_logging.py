"""Logs never carry secrets, tokens or answers."""

import logging
from decimal import Decimal

import pytest

from apps.ops import costs
from apps.ops.tests.helpers import running_session
from rangex.core.logging import RedactSecretsFilter, redact
from rangex.core.system import system_settings_update


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


@pytest.mark.django_db
def test_a_budget_shutdown_logs_every_session_it_stops(caplog, settings):
    settings.RANGEX_RM_PER_USD = "4.00"
    system_settings_update(actor=None, budget_hard_cap_usd=Decimal("1.00"), auto_maintenance_on_budget_cap=True)
    session = running_session()
    type(session).objects.filter(pk=session.pk).update(cost_accumulated_rm=Decimal("40"))
    caplog.set_level(logging.WARNING, logger="apps.ops.costs")
    assert costs.budget_cap_check()["stopped"] == 1
    [line] = [r for r in caplog.records if "stopping session" in r.getMessage()]
    assert str(session.pk) in line.getMessage() and "budget cap USD 1.00 reached" in line.getMessage()
