"""System settings, the audit log and jobs now belong to the kernel app ``core``.

State only: the tables stay where they are, with their rows (see core's 0001_initial).
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("ops", "0004_host_isolation_check"),
        ("core", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.RemoveField(model_name="auditlog", name="user"),
                migrations.RemoveField(model_name="job", name="user"),
                migrations.DeleteModel(name="SystemSetting"),
                migrations.DeleteModel(name="SystemSettings"),
                migrations.DeleteModel(name="AuditLog"),
                migrations.DeleteModel(name="Job"),
            ],
        )
    ]
