import pytest
from django.core.management import call_command
from django_celery_beat.models import PeriodicTask

from apps.ops.beat import SCHEDULE


@pytest.mark.django_db
def test_seeding_creates_every_schedule_entry_once(capsys):
    from django.db.migrations.recorder import MigrationRecorder

    assert MigrationRecorder.Migration.objects.filter(app="ops", name="0003_seed_beat_schedule").exists()
    # Tests with transaction=True flush the migration's rows, so seed again; the command is idempotent.
    call_command("sync_beat")
    call_command("sync_beat")
    assert capsys.readouterr().out.splitlines()[-1] == "Beat schedule: 0 created, 0 updated."
    assert set(PeriodicTask.objects.filter(name__startswith="ops:").values_list("name", flat=True)) == set(SCHEDULE)
    assert PeriodicTask.objects.filter(name__startswith="ops:").count() == len(SCHEDULE)


@pytest.mark.django_db
def test_sync_keeps_an_interval_changed_in_the_admin_unless_reset(capsys):
    from django_celery_beat.models import IntervalSchedule

    call_command("sync_beat")
    entry = PeriodicTask.objects.get(name="ops: orphan sweep")
    entry.interval = IntervalSchedule.objects.create(every=999, period="seconds")
    entry.save()
    call_command("sync_beat")
    assert PeriodicTask.objects.get(name="ops: orphan sweep").interval.every == 999
    call_command("sync_beat", "--reset")
    assert PeriodicTask.objects.get(name="ops: orphan sweep").interval.every == SCHEDULE["ops: orphan sweep"][1]


def test_every_scheduled_task_is_registered():
    from celery import current_app as app

    app.loader.import_default_modules()
    for task, _ in SCHEDULE.values():
        assert task in app.tasks
