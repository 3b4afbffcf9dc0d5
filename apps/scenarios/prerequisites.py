"""Prerequisites: scenarios a solver must have solved before a scenario unlocks (CTFd's ``requirements``).

A version lists them in ``metadata["requirements"] = {"prerequisites": [slugs], "anonymize": bool}``.
Only prerequisites that can be solved count: a slug with no published scenario is ignored, so a
typo or a retired scenario never locks a challenge for good. Practice asks the
``prerequisites_solved`` hook (the environments app answers); events check solves inside the event
(``apps.events.prerequisites``).
"""

from __future__ import annotations

from dataclasses import dataclass

from apps.scenarios import hooks
from apps.scenarios.models import Scenario, ScenarioVersion, VersionStatus


@dataclass(frozen=True)
class Prerequisite:
    slug: str
    title: str


def prerequisite_slugs(version: ScenarioVersion) -> list[str]:
    """Return the slugs ``version`` requires, as written (not yet checked for existence)."""
    metadata = version.metadata if isinstance(version.metadata, dict) else {}
    requirements = metadata.get("requirements")
    if not isinstance(requirements, dict):
        return []
    slugs = requirements.get("prerequisites") or []
    own = version.scenario.slug if version.scenario_id else None
    return [s for s in dict.fromkeys(slugs) if isinstance(s, str) and s != own] if isinstance(slugs, list) else []


def prerequisites_of(version: ScenarioVersion) -> list[Prerequisite]:
    """Return the prerequisites of ``version`` that name a published scenario, with its current title."""
    slugs = prerequisite_slugs(version)
    if not slugs:
        return []
    titles = dict(
        ScenarioVersion.objects.filter(scenario__slug__in=slugs, status=VersionStatus.PUBLISHED).values_list(
            "scenario__slug", "title"
        )
    )
    published = set(Scenario.objects.filter(slug__in=slugs, is_published=True).values_list("slug", flat=True))
    return [Prerequisite(slug=s, title=titles.get(s, s)) for s in slugs if s in published]


def prerequisites_missing(*, user, version: ScenarioVersion) -> list[Prerequisite]:
    """Return the prerequisites of ``version`` that ``user`` has not solved in practice yet."""
    required = prerequisites_of(version)
    if not required or not getattr(user, "is_authenticated", False):
        return required
    solved: set[str] = set()
    for found in hooks.prerequisites_solved.send(user=user, slugs=[p.slug for p in required]):
        solved |= set(found or ())
    return [p for p in required if p.slug not in solved]
