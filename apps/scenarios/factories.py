"""Scenario factories. Versions reach their states through the workflow services, as in production."""

from __future__ import annotations

import itertools
from typing import Any

import factory

from apps.accounts.factories import AdminFactory, CreatorFactory
from apps.images.factories import image_variant
from apps.scenarios import services
from apps.scenarios.models import Machine, ScenarioVersion

_slugs = itertools.count(1)

DEFAULT_QUESTIONS = [
    {
        "id": "q1",
        "type": "flag",
        "prompt": "What is the flag?",
        "points": 10,
        "max_attempts": None,
        "flags": [{"type": "static", "content": "RX{demo}", "case_insensitive": False}],
    },
]
DEFAULT_HINTS = [{"id": "h1", "question_id": "q1", "text": "Look in the web root.", "cost": 2}]
DEFAULT = object()


class MachineFactory(factory.Factory):
    """A machine added to a DRAFT version through ``machine_add``; pass ``scenario_version`` and ``actor``."""

    class Meta:
        model = Machine

    name = factory.Sequence(lambda n: f"machine-{n}")
    role = "attacker"
    image_source_type = "variant"
    image_variant = factory.LazyFunction(image_variant)
    network_group = "lab"
    allow_solver_entry = True

    @classmethod
    def _create(cls, model_class, *args, scenario_version, actor=None, **kwargs):
        actor = actor or scenario_version.scenario.created_by_user
        return services.machine_add(version=scenario_version, actor=actor, **kwargs)


def draft_version(*, creator=None, machines: Any = DEFAULT, **fields: Any) -> ScenarioVersion:
    """Return a DRAFT version that passes submit validation unless ``fields``/``machines`` say otherwise.

    ``machines`` is a list of dicts of machine fields (default: one attacker with solver entry).
    """
    creator = creator or CreatorFactory()
    n = next(_slugs)
    values = {
        "slug": f"scenario-{n}",
        "title": f"Scenario {n}",
        "short_description": "A lab for tests.",
        "category": "web",
        "mission_text": "Find the flag.",
        "questions": [dict(q) for q in DEFAULT_QUESTIONS],
        "hints": [dict(h) for h in DEFAULT_HINTS],
        **fields,
    }
    version = services.scenario_create(actor=creator, **values)
    if machines is DEFAULT:
        machines = [{"name": "attacker"}]
    for spec in machines:
        MachineFactory(scenario_version=version, actor=creator, **spec)
    version.refresh_from_db()
    return version


def submitted_version(*, creator=None, **fields: Any) -> ScenarioVersion:
    version = draft_version(creator=creator, **fields)
    return services.scenario_version_submit(version=version, actor=version.scenario.created_by_user)


def passing_test_run(version: ScenarioVersion, *, admin=None):
    """Record a passing test deployment of ``version``'s current content (for tests that approve or publish).

    The publish gate (``SystemSettings.publish_requires_test_run``) is on by default; tests of the
    gate itself and of real test deployments live in ``apps/environments/tests/test_testdeploy.py``.
    """
    from django.utils import timezone

    from apps.scenarios.models import ScenarioVersionTestRun, TestStatus
    from apps.scenarios.testing import content_hash

    now = timezone.now()
    return ScenarioVersionTestRun.objects.create(
        scenario_version=version,
        initiated_by=admin,
        status=TestStatus.PASSED,
        content_hash=content_hash(ScenarioVersion.objects.get(pk=version.pk)),  # as stored, not as in memory
        started_at=now,
        completed_at=now,
        duration_seconds=0,
        logs="Recorded by a test factory.",
    )


def approved_version(*, creator=None, admin=None, **fields: Any) -> ScenarioVersion:
    version = submitted_version(creator=creator, **fields)
    passing_test_run(version)
    return services.scenario_version_approve(version=version, actor=admin or AdminFactory())


def published_version(*, creator=None, admin=None, **fields: Any) -> ScenarioVersion:
    admin = admin or AdminFactory()
    version = approved_version(creator=creator, admin=admin, **fields)
    return services.scenario_version_publish(version=version, actor=admin)


def rejected_version(*, creator=None, admin=None, reason: str = "Needs work.", **fields: Any) -> ScenarioVersion:
    version = submitted_version(creator=creator, **fields)
    return services.scenario_version_reject(version=version, actor=admin or AdminFactory(), reason=reason)


def archived_version(*, creator=None, **fields: Any) -> ScenarioVersion:
    version = draft_version(creator=creator, **fields)
    return services.scenario_version_archive(version=version, actor=version.scenario.created_by_user)


def version_in(status: str, **fields: Any) -> ScenarioVersion:
    """Return a version in ``status``, reached through the services."""
    makers = {
        "DRAFT": draft_version,
        "SUBMITTED": submitted_version,
        "APPROVED": approved_version,
        "PUBLISHED": published_version,
        "REJECTED": rejected_version,
        "ARCHIVED": archived_version,
    }
    return makers[status](**fields)
