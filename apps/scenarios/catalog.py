"""Solver-facing reads of the scenario catalog: published versions only, never a secret.

A scenario appears in the catalog when it is published and its newest PUBLISHED version is not an
event lab (event labs are reachable only inside events). Each row is that version, with its
scenario joined and, for a signed-in user, whether they starred it and how they rated it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.fields import BooleanField, IntegerField
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.scenarios.limits import accessible_scenario_ids
from apps.scenarios.models import (
    Difficulty,
    ScenarioRating,
    ScenarioType,
    ScenarioVersion,
    UserFavorite,
    VersionStatus,
)
from rangex.core.errors import NotFound
from rangex.core.selectors import get_one

PAGE_SIZE = 12

SORTS = {
    "newest": ("-published_at", "-created_at"),
    "rating": ("-scenario__average_rating", "-scenario__total_ratings", "-published_at"),
    "time": ("estimated_minutes", "title"),
}
SORT_LABELS = {
    "newest": gettext_lazy("Newest"),
    "rating": gettext_lazy("Top rated"),
    "time": gettext_lazy("Shortest first"),
}
# Event labs never appear in the public catalog.
CATALOG_TYPES = [t for t in ScenarioType if t != ScenarioType.EVENT_LAB]
DIFFICULTY_ORDER = [d.value for d in Difficulty]


def _published_versions() -> QuerySet[ScenarioVersion]:
    newer_published = ScenarioVersion.objects.filter(
        scenario_id=OuterRef("scenario_id"),
        status=VersionStatus.PUBLISHED,
        version_number__gt=OuterRef("version_number"),
    )
    return (
        ScenarioVersion.objects.filter(status=VersionStatus.PUBLISHED, scenario__is_published=True)
        .exclude(Exists(newer_published))
        .exclude(scenario_type=ScenarioType.EVENT_LAB)
    )


def _with_user_state(qs: QuerySet[ScenarioVersion], user) -> QuerySet[ScenarioVersion]:
    if user is None or not user.is_authenticated:
        return qs.annotate(
            is_favorite=Value(False, output_field=BooleanField()),
            my_rating=Value(None, output_field=IntegerField()),
        )
    return qs.annotate(
        is_favorite=Exists(UserFavorite.objects.filter(user=user, scenario_id=OuterRef("scenario_id"))),
        my_rating=Subquery(
            ScenarioRating.objects.filter(user=user, scenario_id=OuterRef("scenario_id")).values("rating")[:1]
        ),
    )


def _accessible(qs: QuerySet[ScenarioVersion], user) -> QuerySet[ScenarioVersion]:
    """Keep the scenarios the allow list and the per-player scenario cap leave open to ``user``."""
    ids = accessible_scenario_ids(user=user)
    return qs if ids is None else qs.filter(scenario_id__in=ids)


def catalog_filters(data: dict) -> dict:
    """Turn the catalog's query parameters (page form or API) into ``catalog_list`` keywords."""
    return {
        "q": data.get("q") or "",
        "category": data.get("category") or None,
        "difficulty": data.get("difficulty") or None,
        "scenario_type": data.get("type") or None,
        "tags": data.get("tag") or (),
        "sort": data.get("sort") or "newest",
    }


def catalog_list(
    *,
    user,
    q: str = "",
    category: str | None = None,
    difficulty: str | None = None,
    scenario_type: str | None = None,
    tags: Iterable[str] = (),
    sort: str = "newest",
    favorites_only: bool = False,
) -> QuerySet[ScenarioVersion]:
    """Return the published versions a user may browse, filtered, searched and sorted.

    The queryset joins the scenario and annotates ``is_favorite`` and ``my_rating`` so a page of
    cards costs a constant number of queries.
    """
    qs = _accessible(_with_user_state(_published_versions().select_related("scenario"), user), user)
    q = (q or "").strip()
    if q:
        # Tags are a JSON list; searching its text finds a tag by any part of its name.
        qs = qs.filter(Q(title__icontains=q) | Q(short_description__icontains=q) | Q(tags__icontains=q))
    if category:
        qs = qs.filter(category=category)
    if difficulty:
        qs = qs.filter(difficulty=difficulty)
    if scenario_type:
        qs = qs.filter(scenario_type=scenario_type)
    for tag in tags:
        if tag:
            qs = qs.filter(_has_tag(tag))
    if favorites_only:
        if user is None or not user.is_authenticated:
            return qs.none()
        qs = qs.filter(is_favorite=True)
    return qs.order_by(*SORTS.get(sort, SORTS["newest"]))


def _has_tag(tag: str) -> Q:
    """Match versions whose tag list holds ``tag`` (case-insensitively), on MariaDB and SQLite alike.

    JSON containment (``tags__contains=[tag]``) is not supported on SQLite, the embedded default, so
    the list's stored text is searched for the tag as a quoted JSON string: the quotes make the match
    a whole element, never a part of a longer tag. Both backends store the text ``json.dumps`` wrote.
    """
    return Q(tags__icontains=json.dumps(tag))


def catalog_facets() -> dict[str, list[str]]:
    """Return the categories and tags in use by the catalog, for the filter controls (one query)."""
    categories: set[str] = set()
    tags: set[str] = set()
    for category, version_tags in _published_versions().values_list("category", "tags"):
        categories.add(category)
        tags.update(t for t in (version_tags or []) if isinstance(t, str))
    return {"categories": sorted(categories, key=str.lower), "tags": sorted(tags, key=str.lower)}


def catalog_get(*, user, slug: str) -> ScenarioVersion:
    """Return the published version of the scenario ``slug`` with its machines and pivot links."""
    qs = _accessible(_with_user_state(_published_versions().select_related("scenario"), user), user).prefetch_related(
        "machines", "pivot_points"
    )
    if not slug:
        raise NotFound(_("There is no published scenario with that name."))
    return get_one(qs, _("There is no published scenario with that name."), scenario__slug=slug)


def catalog_topology(version: ScenarioVersion) -> dict:
    """Describe the version's networks for solvers: groups with their machines and the pivot links.

    Only names, roles and what a solver may enter are exposed; images, credentials, environment
    variables and ports stay private.
    """
    machines = [
        {
            "name": machine.name,
            "role": machine.role,
            "role_label": machine.get_role_display(),
            "network_group": machine.network_group,
            "solver_can_enter": machine.allow_solver_entry,
            "is_pivot_host": machine.is_pivot_host,
        }
        for machine in version.machines.all()
    ]
    groups: dict[str, list[dict]] = {}
    for machine in machines:
        groups.setdefault(machine["network_group"], []).append(machine)
    links = []
    for point in version.pivot_points.all():
        source, target = point.source_network_group, point.target_network_group
        links.append({"source": source, "target": target})
        # A pivot host is attached to both groups its pivot points name, so it is drawn in each.
        for here, there in ((source, target), (target, source)):
            for machine in [m for m in groups.get(here, []) if m["is_pivot_host"]]:
                members = groups.setdefault(there, [])
                if machine not in members:
                    members.append(machine)
            groups.setdefault(there, [])
    # The table lists each machine on every network the diagram draws it in (a pivot host on several).
    for machine in machines:
        machine["networks"] = [name for name in sorted(groups) if machine in groups[name]]
    return {
        "machines": machines,
        "groups": [{"name": name, "machines": groups[name]} for name in sorted(groups)],
        "links": links,
    }
