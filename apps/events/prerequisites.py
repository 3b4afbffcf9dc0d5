"""Prerequisites inside an event: a challenge unlocks once the participant solved the challenges it requires.

As in CTFd, requirements count solves in this event only, and a requirement naming a scenario that
is not one of the event's challenges is ignored (it could never be solved here). "Solved" is the
participant's play of that challenge finished: every question answered right.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from apps.events.models import EventScenario, EventSession
from apps.scenarios.prerequisites import Prerequisite, prerequisite_slugs
from rangex.core.errors import Conflict


def event_prerequisites_missing(*, event, participation, version) -> list[Prerequisite]:
    """Return the challenges of ``event`` that ``participation`` must still solve before ``version`` unlocks."""
    slugs = prerequisite_slugs(version)
    if not slugs:
        return []
    in_event = {
        row.scenario_version.scenario.slug: row.scenario_version
        for row in EventScenario.objects.filter(event=event, scenario_version__scenario__slug__in=slugs).select_related(
            "scenario_version__scenario"
        )
    }
    if not in_event:
        return []
    solved = set()
    if participation is not None:
        solved = set(
            EventSession.objects.filter(
                participation=participation,
                scenario_version__scenario__slug__in=list(in_event),
                status=EventSession.Status.FINISHED,
            ).values_list("scenario_version__scenario__slug", flat=True)
        )
    return [Prerequisite(slug=s, title=in_event[s].title) for s in slugs if s in in_event and s not in solved]


def event_prerequisites_require(*, event, participation, version) -> None:
    """Refuse to play ``version`` while a challenge it requires is unsolved in ``event``."""
    missing = event_prerequisites_missing(event=event, participation=participation, version=version)
    if missing:
        names = ", ".join(p.title for p in missing)
        raise Conflict(_("This challenge is locked until you solve %(names)s.") % {"names": names})
