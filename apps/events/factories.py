"""Event test helpers: events are admin data (created through ``event_save``), the rest through services."""

from __future__ import annotations

import itertools
from datetime import timedelta

from django.utils import timezone

from apps.accounts.factories import AdminFactory
from apps.events import services
from apps.events.models import Event, EventScenario
from apps.scenarios.factories import published_version

_names = itertools.count(1)

QUESTIONS = [
    {
        "id": "q1",
        "type": "flag",
        "prompt": "Flag one?",
        "points": 100,
        "max_attempts": None,
        "answer": "RX{one}",
        "match": "exact",
    },
    {
        "id": "q2",
        "type": "flag",
        "prompt": "Flag two?",
        "points": 50,
        "max_attempts": 2,
        "answer": "RX{two}",
        "match": "exact",
    },
]


def quiz_version(*, hints=(), **fields):
    """Return a published version without machines: its questions are answered directly."""
    return published_version(
        machines=[], requires_machines=False, questions=[dict(q) for q in QUESTIONS], hints=list(hints), **fields
    )


def make_event(*, versions=None, admin=None, live=True, **fields) -> Event:
    now = timezone.now()
    values = {
        "name": f"Event {next(_names)}",
        "start_date": now - timedelta(hours=1) if live else now + timedelta(hours=1),
        "end_date": now + timedelta(hours=5),
        "registration_required": True,
        **fields,
    }
    admin = admin or AdminFactory()
    event = services.event_save(event=Event(**values), actor=admin)
    for order, version in enumerate(versions if versions is not None else [quiz_version()]):
        EventScenario.objects.create(event=event, scenario_version=version, sort_order=order)
    return event


def team_of(*, size: int = 2, name: str | None = None, **profile):
    """Return an open team of ``size`` members (the first is its leader)."""
    from apps.accounts.factories import UserFactory
    from apps.teams.services import team_create, team_join

    leader = UserFactory(display_name=f"{name or 'Team'} leader")
    team = team_create(actor=leader, name=name or f"Team {next(_names)}", open_team=True, **profile)
    for n in range(size - 1):
        team_join(team=team, user=UserFactory(display_name=f"{team.name} member {n + 1}"))
    return team


def version_of(event: Event):
    return event.scenarios.order_by("sort_order").first().scenario_version


def lab_version(**fields):
    """Return a published one-machine lab on the busybox test image.

    ``q1`` is a static flag (the mission tells it; hint ``h1`` costs 4 points of it), ``q2`` a
    dynamic flag written into the machine, so each lab has its own.
    """
    import time

    from apps.environments.factories import STATIC_FLAG, TEST_IMAGE
    from apps.images.factories import image_variant

    variant = image_variant(image_ref=TEST_IMAGE, display_name=f"Busybox {time.monotonic_ns()}")
    values = {
        "title": "Box lab",
        "mission_text": f"The static flag is {STATIC_FLAG}.",
        "questions": [
            {
                "id": "q1",
                "type": "flag",
                "prompt": "The static flag?",
                "points": 10,
                "max_attempts": None,
                "answer": STATIC_FLAG,
                "match": "exact",
            },
            {
                "id": "q2",
                "type": "flag",
                "prompt": "The flag in the box?",
                "points": 20,
                "max_attempts": None,
                "answer": "",
                "match": "exact",
                "dynamic": True,
                "flag_machine": "box",
                "flag_path": "/srv/flag.txt",
            },
        ],
        "hints": [{"id": "h1", "question_id": "q1", "text": "It is in the mission.", "cost": 4}],
        "hint_mode": "penalty",
        **fields,
    }
    machine = {"name": "box", "role": "attacker", "image_variant": variant, "resource_profile": "micro"}
    return published_version(machines=[machine], **values)
