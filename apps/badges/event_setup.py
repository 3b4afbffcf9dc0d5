"""Event badges set up on the event's own form: first blood, top N and finisher.

The events admin asks through ``events.hooks.event_badges_current`` / ``event_badges_save``; the
badges are ordinary badges (one requirement each, about that event), made, changed and removed
through the badge services, so each change is audited.
"""

from __future__ import annotations

from apps.badges.models import Badge, BadgeRequirement, RequirementType
from apps.badges.services import badge_create, badge_delete, badge_requirement_save, badge_save

KINDS = {
    "first_blood": RequirementType.EVENT_FIRST_BLOOD,
    "top_n": RequirementType.EVENT_TOP_N,
    "finisher": RequirementType.EVENT_FINISHER,
}


def _single(event, requirement_type) -> BadgeRequirement | None:
    """Return the requirement of the event's badge of one kind (a badge with that one requirement), if any."""
    rows = BadgeRequirement.objects.filter(event_id=event.pk, requirement_type=requirement_type)
    for requirement in rows.select_related("badge"):
        if requirement.badge.requirements.count() == 1:
            return requirement
    return None


def event_badges_current(*, event) -> dict:
    top_n = _single(event, RequirementType.EVENT_TOP_N)
    return {
        "first_blood": _single(event, RequirementType.EVENT_FIRST_BLOOD) is not None,
        "top_n": top_n.count if top_n else None,
        "finisher": _single(event, RequirementType.EVENT_FINISHER) is not None,
    }


def _name(event, kind: str, top_n: int | None) -> str:
    label = {"first_blood": "First blood", "top_n": f"Top {top_n}", "finisher": "Finisher"}[kind]
    name = f"{label} · {event.name}"[:120]
    if Badge.objects.filter(name=name).exists():
        name = f"{label} · {event.name} ({str(event.pk)[:8]})"[:120]
    return name


def _criteria(event, kind: str, top_n: int | None) -> str:
    return {
        "first_blood": f"Solve a question of {event.name} before anyone else.",
        "top_n": f"Finish {event.name} in the top {top_n}.",
        "finisher": f"Solve every challenge of {event.name}.",
    }[kind]


def event_badges_save(*, event, actor, first_blood: bool, top_n: int | None, finisher: bool) -> None:
    """Make the event's badges match the organiser's choice: create, change or remove each kind."""
    wanted = {"first_blood": first_blood, "top_n": bool(top_n), "finisher": finisher}
    for kind, requirement_type in KINDS.items():
        existing = _single(event, requirement_type)
        if not wanted[kind]:
            if existing is not None:
                badge_delete(badge=existing.badge, actor=actor)
            continue
        if existing is None:
            requirement = {"requirement_type": requirement_type, "event_id": event.pk}
            if kind == "top_n":
                requirement["count"] = top_n
            badge_create(
                actor=actor,
                name=_name(event, kind, top_n),
                description=_criteria(event, kind, top_n),
                criteria=_criteria(event, kind, top_n),
                requirements=[requirement],
            )
        elif kind == "top_n" and existing.count != top_n:
            existing.count = top_n
            badge_requirement_save(requirement=existing, actor=actor)
            badge = existing.badge
            badge.name = _name(event, kind, top_n)
            badge.description = badge.criteria = _criteria(event, kind, top_n)
            badge_save(badge=badge, actor=actor)
