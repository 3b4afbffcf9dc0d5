"""Notifications now belong to the kernel app ``core``.

State only: the ``notification`` table stays where it is, with its rows (see core's 0001_initial).
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_creator_preferred_variants"),
        ("core", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[migrations.DeleteModel(name="Notification")],
        )
    ]
