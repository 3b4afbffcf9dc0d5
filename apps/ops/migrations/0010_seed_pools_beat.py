from django.db import migrations


def seed(apps, schema_editor):
    from apps.ops.beat import beat_sync

    # Creates the entries added since 0009 (warm pools); intervals an admin changed stay as they are.
    beat_sync(
        interval_model=apps.get_model("django_celery_beat", "IntervalSchedule"),
        task_model=apps.get_model("django_celery_beat", "PeriodicTask"),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("ops", "0009_seed_launches_beat"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
