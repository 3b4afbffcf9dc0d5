"""Helpers the event services share."""

from __future__ import annotations

import logging

from apps.events.models import (
    Event,
)

logger = logging.getLogger(__name__)


def event_locked(event: Event) -> Event:
    return Event.objects.select_for_update().get(pk=event.pk)
