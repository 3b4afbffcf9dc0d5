"""Reads of scenarios for creators and admins, with the access rules built in.

A creator sees only their own scenarios and versions; admins see all. Another creator's version
is reported as missing (404), never as forbidden, so ids reveal nothing.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from apps.scenarios.models import Scenario, ScenarioVersion, VersionStatus
from rangex.core.errors import NotFound
from rangex.core.selectors import get_one


def scenario_list_for_creator(*, user) -> QuerySet[Scenario]:
    """Return the scenarios ``user`` may manage: their own, or all for an admin."""
    qs = Scenario.objects.select_related("created_by_user")
    if getattr(user, "is_platform_admin", False):
        return qs
    if not getattr(user, "role_creator", False):
        return qs.none()
    return qs.filter(created_by_user=user)


def scenario_version_list_for_creator(*, user) -> QuerySet[ScenarioVersion]:
    """Return the versions ``user`` may manage: their own, or all for an admin."""
    qs = ScenarioVersion.objects.select_related(
        "scenario", "scenario__created_by_user", "approved_by_user", "rejected_by_user", "based_on"
    )
    if getattr(user, "is_platform_admin", False):
        return qs
    if not getattr(user, "role_creator", False):
        return qs.none()
    return qs.filter(scenario__created_by_user=user)


def scenario_version_get_for_creator(*, user, pk) -> ScenarioVersion:
    """Return one version ``user`` may manage; NotFound for anyone else's."""
    try:
        return scenario_version_list_for_creator(user=user).get(pk=pk)
    except (ScenarioVersion.DoesNotExist, ValueError, TypeError, ValidationError):
        # A malformed UUID raises ValidationError from the field; it is just as missing.
        raise NotFound(_("No such scenario version.")) from None


# Content of a published or archived version never changes again (only a draft may be edited, and
# neither status leads back to one), so each process keeps the last few it played from.
FROZEN_STATUSES = frozenset({VersionStatus.PUBLISHED, VersionStatus.ARCHIVED})
_CONTENT_CACHE_SIZE = 256
_content_cache: OrderedDict = OrderedDict()
_content_lock = threading.Lock()


def version_content(*, version_id) -> ScenarioVersion:
    """Return the version to play from (questions, hints, scoring), from this process's cache when frozen.

    The instance may be shared between callers: read its content, never change it, and do not
    rely on its workflow fields (``status`` is as it was when first read). NotFound when missing.
    """
    key = str(version_id)
    with _content_lock:
        version = _content_cache.get(key)
        if version is not None:
            _content_cache.move_to_end(key)
            return version
    version = get_one(ScenarioVersion.objects.all(), _("No such scenario version."), pk=version_id)
    if version.status in FROZEN_STATUSES:
        with _content_lock:
            _content_cache[key] = version
            while len(_content_cache) > _CONTENT_CACHE_SIZE:
                _content_cache.popitem(last=False)
    return version


def review_queue() -> QuerySet[ScenarioVersion]:
    """Return the versions waiting for an admin's decision, oldest submission first."""
    return (
        ScenarioVersion.objects.filter(status=VersionStatus.SUBMITTED)
        .select_related("scenario", "scenario__created_by_user")
        .order_by("submitted_at", "created_at")
    )


def scenario_version_previous(*, version: ScenarioVersion) -> ScenarioVersion | None:
    """Return the version this one is compared against: its source, else the one numbered before it."""
    if version.based_on_id:
        return version.based_on
    return (
        ScenarioVersion.objects.filter(scenario_id=version.scenario_id, version_number__lt=version.version_number)
        .order_by("-version_number")
        .first()
    )
