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


def quiz_version(**fields):
    """Return a published version without machines: its questions are answered directly."""
    return published_version(
        machines=[], requires_machines=False, questions=[dict(q) for q in QUESTIONS], hints=[], **fields
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


def version_of(event: Event):
    return event.scenarios.order_by("sort_order").first().scenario_version
