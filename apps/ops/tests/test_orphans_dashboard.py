"""Orphan rows are closed once their resource is gone from the engine, and old closed rows leave the dashboard."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.ops import reconcile
from apps.ops.models import OrphanedTaskLog
from apps.ops.selectors_dashboard import open_orphans
from apps.ops.tests.test_docker_reconcile import _exists, _rogue_container

pytestmark = pytest.mark.django_db


def _row(arn: str, status: str, **extra) -> OrphanedTaskLog:
    return OrphanedTaskLog.objects.create(
        task_arn=arn, status=status, metadata={"kind": "container"}, termination_reason="No live session", **extra
    )


def test_rows_of_resources_gone_from_the_engine_are_closed_by_the_next_sweep_and_leave_the_dashboard(runtime):
    now = timezone.now()
    gone = [
        _row("gone-after-a-dry-run", OrphanedTaskLog.Status.REPORTED),
        _row("gone-after-a-failed-removal", OrphanedTaskLog.Status.FAILED, error_message="engine said no"),
        _row("gone-after-a-killed-sweep", OrphanedTaskLog.Status.DETECTED, detected_at=now - timedelta(hours=3)),
    ]
    old = _row("removed-last-week", OrphanedTaskLog.Status.TERMINATED, terminated_at=now - timedelta(days=7))
    rogue = _rogue_container(runtime)
    try:
        still_there = _row(rogue.id, OrphanedTaskLog.Status.FAILED, error_message="engine said no")
        assert {r.pk for r in open_orphans()} == {*(r.pk for r in gone), still_there.pk}

        reconcile.orphans_sweep()

        for row in gone:
            row.refresh_from_db()
            assert row.status == OrphanedTaskLog.Status.TERMINATED and row.terminated_at and not row.error_message
        still_there.refresh_from_db()
        assert still_there.status == OrphanedTaskLog.Status.FAILED
        shown = {r.pk for r in open_orphans()}
        assert still_there.pk in shown and old.pk not in shown
        assert not {r.pk for r in open_orphans(now + timedelta(days=2))} & {r.pk for r in gone}
    finally:
        if _exists(runtime, rogue.id):
            rogue.remove(force=True)
