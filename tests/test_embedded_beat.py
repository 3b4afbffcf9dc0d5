"""The embedded default runs the periodic schedule in its web process (issue 25): Celery's beat service on
a thread, with the database scheduler production uses, so the same entries run at their intervals."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from apps.accounts.factories import UserFactory
from apps.badges.factories import badge
from apps.badges.models import UserBadge
from apps.events import services
from apps.events.factories import make_event, version_of
from rangex.embedded_beat import embedded_beat_start, embedded_beat_stop

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.django_db(transaction=True)
def test_the_embedded_beat_runs_the_database_schedule_at_its_intervals():
    """Top-N badges appeared only when someone ran the task by hand: here the schedule awards them."""
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    event = make_event(allow_late_registration=True)
    winner = badge(requirements=[{"requirement_type": "event_top_n", "event_id": event.pk, "count": 1}])
    player = UserFactory()
    services.event_register(event=event, user=player)
    services.event_submit_answer(event=event, user=player, version_id=version_of(event).pk, question_id="q1",
                                 answer="RX{one}")  # fmt: skip
    event.end_date = timezone.now() - timedelta(minutes=1)
    event.save(update_fields=["end_date"])

    call_command("sync_beat")
    # An admin's change in "Periodic tasks" applies to the embedded schedule too: every second here.
    entry = PeriodicTask.objects.get(name="ops: badges of finished events")
    entry.interval, _ = IntervalSchedule.objects.get_or_create(every=1, period="seconds")
    entry.save()
    PeriodicTask.objects.exclude(pk=entry.pk).update(enabled=False)

    assert embedded_beat_start(force=True) is embedded_beat_start(force=True)  # once per process
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not UserBadge.objects.filter(badge=winner).exists():
            time.sleep(0.25)
    finally:
        embedded_beat_stop()
    assert UserBadge.objects.filter(badge=winner, user=player).exists()
    assert PeriodicTask.objects.get(pk=entry.pk).total_run_count >= 1


def test_the_embedded_beat_is_off_when_turned_off(settings):
    settings.RANGEX_EMBEDDED_BEAT = False
    assert embedded_beat_start() is None


def _setting(env: dict) -> str:
    clean = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "VIRTUAL_ENV") if k in os.environ}
    base = {
        "RANGEX_ENV_FILE": "/dev/null",
        "SECRET_KEY": "embedded-" + "k" * 40,
        "FIELD_ENCRYPTION_KEYS": "Ox1v3uVOxfD6R4pVvjt1Z7sqr7ZyV6p0q3o0J4wD6eA=",
        "DEBUG": "true",
        "RANGEX_VAR_DIR": "/tmp/rangex-embedded-beat-test",
    }
    code = "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='rangex.settings'; django.setup(); " + (
        "from django.conf import settings; print(settings.RANGEX_EMBEDDED_BEAT)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env={**clean, **base, **env}, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.strip()


def test_the_embedded_default_runs_the_schedule_and_production_leaves_it_to_celery_beat():
    assert _setting({}) == "True"
    assert _setting({"RANGEX_EMBEDDED_BEAT": "false"}) == "False"
    assert _setting({"REDIS_URL": "redis://127.0.0.1:6379/0"}) == "False"
