"""Stand-in for the workflow factories until they land: published versions written directly."""

from __future__ import annotations

import itertools
from typing import Any

from django.utils import timezone

from apps.accounts.tests.factories import CreatorFactory
from apps.scenarios.models import Machine, Scenario, ScenarioVersion, VersionStatus

_slugs = itertools.count(1)


def published_version(*, creator=None, machines: Any = None, **fields: Any) -> ScenarioVersion:
    creator = creator or CreatorFactory()
    n = next(_slugs)
    slug = fields.pop("slug", f"catalog-{n}")
    scenario = Scenario.objects.create(slug=slug, created_by_user=creator, is_published=True)
    values = {
        "title": f"Scenario {n}",
        "short_description": "A lab for tests.",
        "category": "web",
        "mission_text": "Find the flag.",
        "status": VersionStatus.PUBLISHED,
        "published_at": timezone.now(),
        **fields,
    }
    version = ScenarioVersion.objects.create(scenario=scenario, version_number=1, **values)
    for spec in machines if machines is not None else [{"name": "attacker", "role": "attacker"}]:
        Machine.objects.create(scenario_version=version, image_source_type="custom", image_ref="x:y", **spec)
    return version
