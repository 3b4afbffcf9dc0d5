"""Heartbeats of the Celery worker and beat, and the alert when one of them stops."""

import os
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.core.management import call_command
from django_celery_beat.models import PeriodicTask

from apps.ops.liveness import beat_tick, liveness_state
from apps.ops.models import AlertLog
from apps.ops.tasks import heartbeat_task
from rangex.core.heartbeats import BEAT, STALE_SECONDS, WORKER, heartbeat_age, heartbeat_record
from rangex.core.system import system_settings_update

pytestmark = pytest.mark.django_db


@pytest.fixture
def separate_worker(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False


def test_the_heartbeat_task_records_the_worker():
    assert heartbeat_age(WORKER) is None
    heartbeat_task.apply()
    assert heartbeat_age(WORKER) < 5


def test_liveness_is_skipped_where_no_separate_process_runs(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    assert liveness_state(WORKER)["status"] == "skipped"
    settings.REDIS_URL = ""
    assert liveness_state(BEAT)["status"] == "skipped"


def test_beat_alerts_once_about_a_stale_worker_after_its_grace(separate_worker):
    system_settings_update(actor=None, admin_emails="ops@example.test")
    now = time.time()
    heartbeat_record(WORKER, at=now - STALE_SECONDS - 1)
    # Just started: beat gives the worker time to start before it alerts.
    beat_tick(started=now, now=now)
    assert heartbeat_age(BEAT, now=now) == 0
    assert not AlertLog.objects.exists()
    for _ in range(2):
        beat_tick(started=now - STALE_SECONDS, now=now)
    alert = AlertLog.objects.get()
    assert alert.dedupe_key == "liveness:worker" and alert.priority == "critical"
    assert "worker stopped heartbeating" in alert.subject and "Start the Celery worker" in alert.message
    heartbeat_record(WORKER, at=now)
    beat_tick(started=now - STALE_SECONDS, now=now)
    assert AlertLog.objects.count() == 1


def test_a_worker_alerts_once_about_a_stale_beat_after_its_grace(separate_worker):
    from celery import current_app

    from apps.ops.liveness import worker_tick

    system_settings_update(actor=None, admin_emails="ops@example.test")
    now = time.time()
    heartbeat_record(BEAT, at=now - STALE_SECONDS - 1)
    worker_tick(app=current_app, started=now, now=now)
    assert not AlertLog.objects.exists()
    for _ in range(2):
        worker_tick(app=current_app, started=now - STALE_SECONDS, now=now)
    alert = AlertLog.objects.get()
    assert alert.dedupe_key == "liveness:beat" and "Start Celery beat" in alert.message


@pytest.mark.django_db(transaction=True)
def test_beat_runs_the_liveness_scheduler_which_records_its_heartbeat():
    """Celery's beat service (on a thread, as the embedded default runs it) with the configured scheduler."""
    from celery import current_app
    from celery.beat import EmbeddedService

    assert settings.CELERY_BEAT_SCHEDULER == "apps.ops.liveness:LivenessScheduler"
    call_command("sync_beat")
    # Nothing of the real schedule runs here: only the heartbeat is under test.
    PeriodicTask.objects.update(enabled=False)
    beat = EmbeddedService(current_app, thread=True, scheduler_cls=settings.CELERY_BEAT_SCHEDULER)
    beat.start()
    try:
        deadline = time.monotonic() + 30
        while heartbeat_age(BEAT) is None and time.monotonic() < deadline:
            time.sleep(0.25)
    finally:
        beat.stop()
        beat.join(timeout=10)
    assert heartbeat_age(BEAT) < 30
    assert liveness_state(BEAT)["status"] == "ok"


def test_a_running_worker_heartbeats_by_consuming_its_queue_and_goes_stale_when_stopped(separate_worker):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "rangex.settings_test",
        "RANGEX_TEST_INSTANCE": settings.RANGEX_INSTANCE,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "RANGEX_HEARTBEAT_SECONDS": "1",
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "rangex",
            "worker",
            "-P",
            "solo",
            "-Q",
            "celery",
            "--without-mingle",
            "--without-gossip",
            "-l",
            "WARNING",
        ],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while heartbeat_age(WORKER) is None and time.monotonic() < deadline:
            time.sleep(0.5)
        assert heartbeat_age(WORKER) is not None, "the worker never became ready"
        # The ready signal recorded the first one; the next ones come from the heartbeat task it consumes.
        heartbeat_record(WORKER, at=0)
        deadline = time.monotonic() + 20
        while heartbeat_age(WORKER) > 10 and time.monotonic() < deadline:
            time.sleep(0.5)
        assert heartbeat_age(WORKER) < 10
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    assert liveness_state(WORKER)["status"] == "ok"
    time.sleep(3)
    assert heartbeat_age(WORKER) >= 2
    assert liveness_state(WORKER, now=time.time() + STALE_SECONDS)["status"] == "down"
