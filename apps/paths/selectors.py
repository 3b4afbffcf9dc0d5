"""Reads of career paths and playlists with their access checks, and per-user progress.

Progress counts per scenario, not per version: an item whose version was archived in favour of a
newer one stays completed for everyone who completed any version of that scenario.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _

from apps.environments.models import EnvironmentSession
from apps.environments.progress import learner_scenario_percent
from apps.paths.models import CareerPath, CareerPathItem, Playlist, PlaylistItem
from rangex.core.selectors import get_one

ITEM_RELATED = ("scenario_version__scenario",)


def _path_items():
    return CareerPathItem.objects.select_related(*ITEM_RELATED).prefetch_related("requires__scenario_version")


def _is_admin(user) -> bool:
    return bool(getattr(user, "is_platform_admin", False))


# --- Career paths ----------------------------------------------------------------------------------


def career_path_list_for_user(*, user) -> QuerySet[CareerPath]:
    """Return the paths ``user`` may see (public ones; admins see all), items prefetched."""
    qs = CareerPath.objects.prefetch_related(Prefetch("items", queryset=_path_items()))
    return qs if _is_admin(user) else qs.filter(is_public=True)


def career_path_get_for_user(*, user, pk) -> CareerPath:
    """Return a path ``user`` may see; a private one is a 404 to everyone but admins."""
    return get_one(career_path_list_for_user(user=user), _("No such path."), pk=pk)


# --- Playlists ---------------------------------------------------------------------------------------


def _playlists() -> QuerySet[Playlist]:
    return Playlist.objects.select_related("owner_user").prefetch_related(
        Prefetch("items", queryset=PlaylistItem.objects.select_related(*ITEM_RELATED))
    )


def playlist_list_for_user(*, user) -> QuerySet[Playlist]:
    """Return the public playlists plus ``user``'s own private ones."""
    if user is None or not user.is_authenticated:
        return _playlists().filter(is_public=True)
    return _playlists().filter(Q(is_public=True) | Q(owner_user=user))


def playlist_list_owned(*, user) -> QuerySet[Playlist]:
    return _playlists().filter(owner_user=user)


def playlist_get_for_user(*, user, pk) -> Playlist:
    """Return a playlist ``user`` may see: public, or their own. Another user's private one is a 404."""
    return get_one(playlist_list_for_user(user=user), _("No such playlist."), pk=pk)


def playlist_get_owned(*, user, pk) -> Playlist:
    """Return a playlist ``user`` may change: their own (admins: any). Anyone else's is a 404."""
    qs = _playlists() if _is_admin(user) else playlist_list_owned(user=user)
    if not user.is_authenticated:
        qs = qs.none()
    return get_one(qs, _("No such playlist."), pk=pk)


# --- Progress ------------------------------------------------------------------------------------------


def completed_scenario_ids(*, user) -> set:
    """Return the ids of the scenarios ``user`` has completed in any version (test sessions excluded)."""
    if user is None or not user.is_authenticated:
        return set()
    return set(
        EnvironmentSession.objects.filter(user=user, completed_at__isnull=False, is_test=False)
        .values_list("scenario_version__scenario_id", flat=True)
        .distinct()
    )


def scenario_progress(*, user, scenario_ids, versions=()) -> dict[Any, int]:
    """Return ``{scenario_id: percent}``: 100 when completed, else the best share of questions solved.

    The share counts the learner's solves across all their labs (``apps.environments.progress``)
    against ``versions`` (the ones a page lists), as well as the best single lab.
    """
    if user is None or not user.is_authenticated or not scenario_ids:
        return {}
    rows = EnvironmentSession.objects.filter(
        user=user, is_test=False, scenario_version__scenario_id__in=list(scenario_ids)
    ).values_list("scenario_version__scenario_id", "completed_at", "answers", "scenario_version__questions")
    best: dict[Any, int] = {}
    for scenario_id, completed_at, answers, questions in rows:
        if completed_at is not None:
            percent = 100
        else:
            total = len(questions or []) or 1
            solved = sum(1 for state in (answers or {}).values() if isinstance(state, dict) and state.get("correct"))
            percent = min(99, solved * 100 // total)
        best[scenario_id] = max(best.get(scenario_id, 0), percent)
    for scenario_id, percent in learner_scenario_percent(user=user, versions=versions).items():
        best[scenario_id] = max(best.get(scenario_id, 0), percent)
    return best


@dataclass
class ItemProgress:
    item: Any
    percent: int
    # The path items still to complete before this one unlocks (none: open).
    locked_by: list = field(default_factory=list)

    @property
    def completed(self) -> bool:
        return self.percent >= 100

    @property
    def locked(self) -> bool:
        return bool(self.locked_by) and not self.completed


@dataclass
class Progress:
    items: list[ItemProgress] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.items)

    @property
    def completed_count(self) -> int:
        return sum(1 for i in self.items if i.completed)

    @property
    def percent(self) -> int:
        return self.completed_count * 100 // self.total if self.total else 0

    @property
    def is_complete(self) -> bool:
        return self.total > 0 and self.completed_count == self.total

    @property
    def next_item(self):
        return next((i.item for i in self.items if not i.completed and not i.locked), None)


def progress_of(*, items, progress_by_scenario: dict) -> Progress:
    """Build the progress of ordered ``items`` from ``scenario_progress`` output (no queries: requires prefetched)."""
    percent = {i.pk: progress_by_scenario.get(i.scenario_version.scenario_id, 0) for i in items}
    rows = []
    for item in items:
        requires = list(item.requires.all()) if isinstance(item, CareerPathItem) else []
        locked_by = [r for r in requires if percent.get(r.pk, 0) < 100]
        rows.append(ItemProgress(item=item, percent=percent[item.pk], locked_by=locked_by))
    return Progress(items=rows)


def progress_for_many(*, user, containers) -> dict[Any, Progress]:
    """Return ``{container.pk: Progress}`` for prefetched paths or playlists, in one query in all."""
    containers = list(containers)
    scenario_ids = {i.scenario_version.scenario_id for c in containers for i in c.items.all()}
    versions = {i.scenario_version_id: i.scenario_version for c in containers for i in c.items.all()}
    by_scenario = scenario_progress(user=user, scenario_ids=scenario_ids, versions=versions.values())
    return {c.pk: progress_of(items=list(c.items.all()), progress_by_scenario=by_scenario) for c in containers}


def career_paths_completed(*, user) -> set:
    """Return the ids of the career paths (public or not) whose every item ``user`` has completed."""
    done = completed_scenario_ids(user=user)
    if not done:
        return set()
    paths = CareerPath.objects.prefetch_related(
        Prefetch("items", queryset=CareerPathItem.objects.select_related("scenario_version"))
    )
    return {p.pk for p in paths if p.items.all() and all(i.scenario_version.scenario_id in done for i in p.items.all())}


def career_path_progress_many(*, user, paths) -> list[tuple[CareerPath, Progress]]:
    """Return ``[(path, progress)]`` for ``paths`` (a queryset), items prefetched, in three queries."""
    paths = list(paths.prefetch_related(Prefetch("items", queryset=_path_items())))
    by_pk = progress_for_many(user=user, containers=paths)
    return [(p, by_pk[p.pk]) for p in paths]


def paths_next_steps(*, session) -> list[dict]:
    """Return the next item of each public path that holds the finished ``session``'s scenario, for its page."""
    if session.completed_at is None or session.event_id is not None or session.is_test:
        return []
    scenario_id = session.scenario_version.scenario_id
    paths = CareerPath.objects.filter(is_public=True, items__scenario_version__scenario_id=scenario_id).distinct()
    steps = []
    for path, progress in career_path_progress_many(user=session.user, paths=paths):
        nxt = progress.next_item
        if nxt is not None:
            steps.append(
                {
                    "label": _("Next in %(title)s") % {"title": path.title},
                    "title": nxt.scenario_version.title,
                    "url": reverse("scenarios:detail", args=[nxt.scenario_version.scenario.slug]),
                }
            )
        else:
            steps.append(
                {
                    "label": _("You completed %(title)s") % {"title": path.title},
                    "title": _("See the path"),
                    "url": path.get_absolute_url(),
                }
            )
    return steps
