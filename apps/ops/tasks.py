"""Celery tasks of ops: thin over idempotent services, acknowledged late so a killed worker's run repeats."""

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from apps.environments import services as env_services
from apps.environments.services.testdeploy import version_test_runs_stale_fail
from apps.ops import alerts, costs, health, reconcile, recovery
from rangex.core.heartbeats import WORKER, heartbeat_record
from rangex.core.locks import single_flight

PERIODIC = {"acks_late": True, "reject_on_worker_lost": True, "ignore_result": True}


@shared_task(**PERIODIC)
def sessions_expire_task() -> None:
    with single_flight("expire", ttl_seconds=120) as mine:
        if mine:
            reconcile.sessions_expire()
            env_services.env_session_teardown_stale()
            # A test deployment whose worker died: failed, so the version can be tested again.
            version_test_runs_stale_fail()


@shared_task(**PERIODIC)
def sessions_stop_idle_task() -> None:
    with single_flight("idle", ttl_seconds=120) as mine:
        if mine:
            reconcile.sessions_stop_idle()


@shared_task(**PERIODIC)
def cost_accrue_task() -> None:
    with single_flight("accrue", ttl_seconds=120) as mine:
        if mine:
            costs.cost_accrue()
            env_services.pool_cost_accrue()


@shared_task(**PERIODIC)
def pools_task() -> None:
    with single_flight("pools", ttl_seconds=120) as mine:
        if mine:
            costs.pools_maintain()


@shared_task(**PERIODIC)
def usage_rollup_task() -> None:
    # Yesterday's row is finished too: its last minutes came after the last run of yesterday.
    now = timezone.now()
    costs.usage_rollup(day=timezone.localdate(now) - timedelta(days=1), now=now)
    costs.usage_rollup(now=now)


@shared_task(**PERIODIC)
def scenario_budgets_task() -> None:
    with single_flight("budgets", ttl_seconds=600) as mine:
        if mine:
            costs.scenario_budgets_check()


@shared_task(**PERIODIC)
def budget_cap_task() -> None:
    with single_flight("budget-cap", ttl_seconds=600) as mine:
        if mine:
            costs.budget_cap_check()


@shared_task(**PERIODIC)
def orphans_sweep_task() -> None:
    with single_flight("orphans", ttl_seconds=600) as mine:
        if mine:
            reconcile.orphans_sweep()


@shared_task(**PERIODIC)
def launches_recover_task() -> None:
    with single_flight("launches", ttl_seconds=60) as mine:
        if mine:
            env_services.env_session_launches_recover()


@shared_task(**PERIODIC)
def lab_machines_task() -> None:
    with single_flight("lab-machines", ttl_seconds=120) as mine:
        if mine:
            recovery.lab_machines_check_all()


@shared_task(**PERIODIC)
def health_check_task() -> None:
    with single_flight("health", ttl_seconds=600) as mine:
        if mine:
            health.health_check_run()
            alerts.alerts_retry_stale()


@shared_task(ignore_result=True)
def heartbeat_task() -> None:
    """Record that a worker consumes its queue (sent by every worker's heartbeat thread)."""
    heartbeat_record(WORKER)


@shared_task(**PERIODIC)
def retention_task() -> None:
    reconcile.retention_purge()


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, ignore_result=True, max_retries=None)
def alert_deliver_task(self, alert_id: int) -> None:
    alert = alerts.alert_deliver(alert_id=alert_id)
    if self.request.is_eager:
        # Without a worker (the embedded default) there is nobody to run a delayed retry: try again now.
        while alert is not None and alert.status == alert.Status.PENDING:
            alert = alerts.alert_deliver(alert_id=alert_id)
    elif alert is not None and alert.status == alert.Status.PENDING:
        raise self.retry(countdown=min(2**alert.retry_count * 10, 600))
