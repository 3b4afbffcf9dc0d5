from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.environments.models import EnvironmentSession, SessionStatus
from apps.ops import costs, tasks
from apps.ops.tests.helpers import running_session
from rangex.core.locks import single_flight

pytestmark = pytest.mark.django_db


def test_single_flight_lets_one_holder_in():
    with single_flight("t-lock") as first, single_flight("t-lock") as second:
        assert (first, second) == (True, False)
    with single_flight("t-lock") as again:
        assert again


def test_periodic_tasks_run_their_services():
    session = running_session()
    EnvironmentSession.objects.filter(pk=session.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    tasks.sessions_expire_task.apply()
    session.refresh_from_db()
    assert session.status in (SessionStatus.STOPPING, SessionStatus.TERMINATED)
    for task in (tasks.usage_rollup_task, tasks.retention_task, tasks.budget_cap_task, tasks.scenario_budgets_task):
        assert task.apply().successful()


def test_accrual_query_count_does_not_grow_with_sessions(django_assert_num_queries):
    start = timezone.now() - timedelta(hours=1)
    for _ in range(2):
        running_session()
    EnvironmentSession.objects.update(cost_accrued_until=start)
    with django_assert_num_queries(6) as few:
        costs.cost_accrue()
    for _ in range(5):
        running_session()
    EnvironmentSession.objects.update(cost_accrued_until=start)
    with django_assert_num_queries(len(few.captured_queries)):
        assert costs.cost_accrue()["charged"] == 7
    assert all(s.cost_accumulated_rm > Decimal("0") for s in EnvironmentSession.objects.all())
