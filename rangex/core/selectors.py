"""Helpers shared by every app's selectors."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import Model, QuerySet

from rangex.core.errors import NotFound


def get_one(queryset: QuerySet, message: str, **lookup) -> Model:
    """Return the one row matching ``lookup`` or raise NotFound (malformed ids included)."""
    try:
        return queryset.get(**lookup)
    except (queryset.model.DoesNotExist, ValidationError, ValueError):
        raise NotFound(message) from None
