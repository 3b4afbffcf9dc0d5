"""Factories for teams, made through the team services as players make them."""

from __future__ import annotations

import itertools
from typing import Any

from apps.accounts.factories import UserFactory
from apps.teams.models import Team
from apps.teams.services import team_create, team_join

_names = itertools.count(1)


def team(*, leader=None, members: int = 0, **profile: Any) -> Team:
    """Return an open team led by ``leader`` (a new user by default) with ``members`` more members."""
    leader = leader or UserFactory()
    values = {"name": f"Team {next(_names)}", "open_team": True, "max_members": 5, **profile}
    created = team_create(actor=leader, **values)
    for _ in range(members):
        team_join(team=created, user=UserFactory())
    return created
