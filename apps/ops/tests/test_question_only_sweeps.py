"""Sweeps and cost passes leave question-only sessions (no machines) alone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.factories import UserFactory
from apps.environments import services
from apps.environments.factories import quiz_version
from apps.environments.models import EnvironmentSession, SessionStatus
from apps.ops import costs, reconcile

pytestmark = pytest.mark.django_db


def test_idle_budget_and_cost_passes_leave_question_only_sessions_alone():
    user = UserFactory()
    session = services.env_session_start(user=user, version=quiz_version())
    long_ago = timezone.now() - timedelta(days=2)
    EnvironmentSession.objects.filter(pk=session.pk).update(last_activity_at=long_ago, started_at=long_ago)
    type(user).objects.filter(pk=user.pk).update(budget_limit_rm=1, budget_spent_rm=5)

    reconcile.sessions_stop_idle()
    costs.cost_accrue()
    reconcile.sessions_expire()

    session.refresh_from_db()
    assert session.status == SessionStatus.RUNNING
    assert session.cost_accumulated_rm == 0
