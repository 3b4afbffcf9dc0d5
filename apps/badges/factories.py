"""Factories for badges, defined through the badge services as admins define them."""

from __future__ import annotations

import itertools
from typing import Any

from apps.accounts.factories import AdminFactory
from apps.badges.models import Badge
from apps.badges.services import badge_create

_names = itertools.count(1)


def badge(*, requirements: list[dict[str, Any]], actor=None, **fields: Any) -> Badge:
    """Return a badge with ``requirements`` (dicts of requirement fields), made by an admin."""
    values = {"name": f"Badge {next(_names)}", **fields}
    return badge_create(actor=actor or AdminFactory(), requirements=requirements, **values)
