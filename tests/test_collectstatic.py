"""collectstatic with the production storage: hashed names, rewritten references, no missing file."""

import json

from django.core.management import call_command
from django.test import override_settings


def test_collectstatic_with_the_manifest_storage_finds_every_referenced_file(tmp_path):
    # The storage production uses without its compression step, which adds time and nothing here.
    storages = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
    }
    with override_settings(STORAGES=storages, STATIC_ROOT=tmp_path):
        call_command("collectstatic", interactive=False, verbosity=0)
    manifest = json.loads((tmp_path / "staticfiles.json").read_text())["paths"]
    assert "vendor/chartjs/chart.umd.js.map" in manifest
    chart = (tmp_path / manifest["vendor/chartjs/chart.umd.js"]).read_text()
    assert manifest["vendor/chartjs/chart.umd.js.map"].split("/")[-1] in chart
