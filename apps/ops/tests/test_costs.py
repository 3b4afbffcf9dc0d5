"""Costs add up: stopped sessions pay their last part-minute, today never exceeds the month, the cap sees the truth.

This file runs on SQLite too (test_costs_sqlite.py): the accrual is the embedded default's as well.
"""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine

from apps.accounts.models import User
from apps.environments import services as env_services
from apps.environments.services import cost_rate_rm
from apps.ops import costs
from apps.ops.selectors_dashboard import platform_overview
from apps.ops.tests.helpers import running_session
from rangex.core.system import system_settings_update

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def test_a_session_stopped_within_its_first_minute_is_charged_up_to_its_stop():
    with time_machine.travel(T0, tick=False):
        session = running_session()
    with time_machine.travel(T0 + timedelta(seconds=40), tick=False):
        env_services.env_session_stop(session=session, actor=None, reason="done")
    with time_machine.travel(T0 + timedelta(seconds=60), tick=False):
        assert costs.cost_accrue()["charged"] == 1
        assert costs.cost_accrue()["charged"] == 0
    session.refresh_from_db()
    expected = (cost_rate_rm(session) * Decimal(40) / Decimal(3600)).quantize(Decimal("0.0001"))
    assert session.cost_accumulated_rm == expected > 0
    assert session.cost_accrued_until == T0 + timedelta(seconds=40)


def test_the_last_part_minute_after_the_last_pass_is_charged_once_stopped():
    with time_machine.travel(T0, tick=False):
        session = running_session()
    with time_machine.travel(T0 + timedelta(minutes=10), tick=False):
        costs.cost_accrue()
    with time_machine.travel(T0 + timedelta(minutes=10, seconds=30), tick=False):
        env_services.env_session_stop(session=session, actor=None, reason="done")
    with time_machine.travel(T0 + timedelta(minutes=11), tick=False):
        costs.cost_accrue()
        costs.cost_accrue()
    session.refresh_from_db()
    expected = (cost_rate_rm(session) * Decimal("10.5") / Decimal(60)).quantize(Decimal("0.0001"))
    assert abs(session.cost_accumulated_rm - expected) <= Decimal("0.0001")
    assert User.objects.get(pk=session.user_id).budget_spent_rm == session.cost_accumulated_rm.quantize(Decimal("0.01"))


def test_cost_today_never_exceeds_this_month_for_a_session_begun_last_month():
    start = datetime(2026, 2, 28, 20, 0, tzinfo=UTC)
    now = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        session = running_session()
    with time_machine.travel(now, tick=False):
        costs.cost_accrue()
        costs.usage_rollup()
        overview = platform_overview()
    today = (cost_rate_rm(session) * 8).quantize(Decimal("0.0001"))
    assert overview["cost_today_rm"] == today > 0
    assert overview["month_rm"] >= overview["cost_today_rm"]


def test_the_cap_is_enforced_on_the_higher_figure(settings):
    settings.RANGEX_RM_PER_USD = "1.00"
    start = datetime(2026, 2, 28, 0, 0, tzinfo=UTC)
    now = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        session = running_session()
    rate = cost_rate_rm(session)
    # Two days in March, booked to February by the accrual (the session began there).
    system_settings_update(actor=None, budget_hard_cap_usd=(rate * 20).quantize(Decimal("0.01")))
    with time_machine.travel(now, tick=False):
        costs.cost_accrue()
        costs.usage_rollup(day=now.date() - timedelta(days=1))
        assert costs.month_cost_rm(month=now.date().replace(day=1)) == 0
        state = costs.budget_cap_check()
    assert state["reached"] is True
    assert state["cost_usd"] == (rate * 24).quantize(Decimal("0.01"))


def test_accrual_and_budget_percentage_survive_a_missing_rollup_day():
    with time_machine.travel(T0, tick=False):
        session = running_session()
    with time_machine.travel(T0 + timedelta(hours=2), tick=False):
        costs.cost_accrue()
        overview = platform_overview()
    session.refresh_from_db()
    assert overview["month_rm"] == session.cost_accumulated_rm > overview["cost_today_rm"] == 0


def test_the_budget_percentage_is_not_capped_at_100(settings, admin_client_2fa):
    settings.RANGEX_RM_PER_USD = "1.00"
    session = running_session()
    type(session).objects.filter(pk=session.pk).update(cost_accumulated_rm=Decimal("0.06"))
    system_settings_update(actor=None, budget_hard_cap_usd=Decimal("0.01"))
    overview = platform_overview()
    assert (overview["budget_pct"], overview["budget_bar_pct"]) == (600, 100)
    html = admin_client_2fa.get("/admin/").content.decode()
    assert "600% of the monthly cap" in html
    assert 'style="width: 100%"' in html


def test_a_test_deployment_costs_its_session_not_the_admins_budget():
    """A test session (``is_test``) accrues its own cost but is not charged to, or stopped by, its admin's budget."""
    from apps.accounts.factories import AdminFactory

    admin = AdminFactory()
    User.objects.filter(pk=admin.pk).update(budget_limit_rm=Decimal("0.01"))
    with time_machine.travel(T0, tick=False):
        session = running_session(user=admin)
        session.is_test = True
        session.save(update_fields=["is_test"])
    with time_machine.travel(T0 + timedelta(hours=2), tick=False):
        costs.cost_accrue()
    session.refresh_from_db()
    admin.refresh_from_db()
    assert session.cost_accumulated_rm > 0 and session.status == "running"
    assert admin.budget_spent_rm == 0
