"""Sessions record their runtime's key ("docker"), not a class name ("DockerRuntime").

Values stored before keys existed are rewritten to the configured key with that backend class;
a class this install no longer configures keeps a key derived from the well-known backends, so
the admin shows the session as on an unconfigured runtime instead of guessing.
"""

from django.db import migrations, models

KNOWN = {
    "DockerRuntime": "docker",
    "FakeRuntime": "fake",
    "EcsRuntime": "ecs",
}


def to_keys(apps, schema_editor):
    from apps.runtime import RuntimeNotConfigured, runtime_config

    Session = apps.get_model("environments", "EnvironmentSession")
    try:
        config = runtime_config()
    except RuntimeNotConfigured:
        config = {}
    for value in Session.objects.exclude(runtime_backend__in=list(config)).values_list(
        "runtime_backend", flat=True
    ).distinct():
        key = None
        for name, entry in config.items():
            backend = entry["BACKEND"]
            if value in (backend, backend.rsplit(".", 1)[-1]):
                key = name
                break
        key = key or KNOWN.get(value.rsplit(".", 1)[-1])
        if key and key != value:
            Session.objects.filter(runtime_backend=value).update(runtime_backend=key)


class Migration(migrations.Migration):
    dependencies = [("environments", "0002_flag_share_submitted_by")]

    operations = [
        migrations.AlterField(
            model_name="environmentsession",
            name="runtime_backend",
            field=models.CharField(
                default="docker",
                help_text="The key of the runtime that started it (RANGEX_DEFAULT_RUNTIME / RANGEX_RUNTIMES); every "
                "later call on the session goes to that backend.",
                max_length=64,
            ),
        ),
        migrations.RunPython(to_keys, migrations.RunPython.noop),
    ]
