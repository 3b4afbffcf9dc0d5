"""Prerequisites inside a career path: an item may require other items of the same path.

The requirements form a directed graph over a path's items; a change that would close a cycle
(A needs B needs A) is refused with the cycle named, since nobody could ever unlock its items.
Locks guide the learner through the path; the scenarios themselves stay open in the catalog (a
scenario's own prerequisites, ``apps.scenarios.prerequisites``, are what refuse a start).
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from apps.paths.models import CareerPath, CareerPathItem
from rangex.core.audit import AuditAction, audit_record
from rangex.core.errors import PermissionDenied, ValidationFailed


def _cycle(graph: dict, start) -> list | None:
    """Return a path of item ids from ``start`` back to itself through ``graph``, or None."""
    stack, seen = [(start, [start])], set()
    while stack:
        node, trail = stack.pop()
        for nxt in graph.get(node, ()):
            if nxt == start:
                return [*trail, start]
            if nxt not in seen:
                seen.add(nxt)
                stack.append((nxt, [*trail, nxt]))
    return None


def career_path_item_requires_set(*, item: CareerPathItem, requires, actor) -> CareerPathItem:
    """Make ``item`` require exactly ``requires`` (items of its path); refuse other paths' items and cycles."""
    if not getattr(actor, "is_platform_admin", False):
        raise PermissionDenied(_("Only admins curate career paths."))
    requires = list(requires)
    with transaction.atomic():
        # The path row lock serialises concurrent edits of one path's requirement graph.
        CareerPath.objects.select_for_update().get(pk=item.career_path_id)
        items = {i.pk: i for i in CareerPathItem.objects.filter(career_path_id=item.career_path_id).select_related(
            "scenario_version")}  # fmt: skip
        for required in requires:
            if required.pk not in items:
                raise ValidationFailed(
                    _("%(required)s is not an item of this path.") % {"required": required},
                    fields={"requires": [_("Pick items of this path.")]},
                )
            if required.pk == item.pk:
                raise ValidationFailed(
                    _("%(value)s cannot require itself.") % {"value": items[item.pk]},
                    fields={"requires": [_("An item cannot require itself.")]},
                )
        graph: dict = {}
        for source, target in CareerPathItem.requires.through.objects.filter(
            from_careerpathitem__career_path_id=item.career_path_id
        ).values_list("from_careerpathitem_id", "to_careerpathitem_id"):
            graph.setdefault(source, set()).add(target)
        graph[item.pk] = {r.pk for r in requires}
        cycle = _cycle(graph, item.pk)
        if cycle is not None:
            names = " → ".join(items[pk].scenario_version.title for pk in cycle)
            raise ValidationFailed(
                _("These prerequisites would make a cycle nobody could finish: %(names)s.") % {"names": names},
                fields={"requires": [_("This makes a cycle.")]},
            )
        item.requires.set(requires)
        audit_record(
            actor=actor,
            action=AuditAction.CAREER_PATH_ITEM_REQUIRES,
            target=item.career_path,
            details={"item": item.pk, "requires": sorted(r.pk for r in requires)},
        )
    return item
