"""Every app with tables has a factories module, and each factory makes a valid row through its services."""

from pathlib import Path

import pytest
from django.apps import apps as django_apps
from django.conf import settings

pytestmark = pytest.mark.django_db


def test_every_app_with_models_has_a_factories_module():
    missing = []
    for config in django_apps.get_app_configs():
        path = Path(config.path)
        ours = {Path(settings.BASE_DIR) / "apps", Path(settings.BASE_DIR) / "rangex"}
        if (not ours & set(path.parents) and path not in ours) or not list(config.get_models()):
            continue
        if not (path / "factories.py").exists():
            missing.append(config.label)
    assert missing == []


def test_the_small_factories_make_rows_through_their_services():
    from apps.badges.factories import badge
    from apps.ops.factories import budget, health_check
    from apps.scenarios.factories import published_version
    from apps.teams.factories import team
    from rangex.core.factories import job, system_setting

    version = published_version()
    assert team(members=2).members.count() == 3
    made = badge(requirements=[{"requirement_type": "complete_scenario", "scenario": version}])
    assert made.requirements.count() == 1
    assert budget(scenario=version.scenario).alert_month.day == 1
    assert health_check().status == "ok"
    assert job().status == "queued"
    assert system_setting().value == "value"
