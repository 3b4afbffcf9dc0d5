"""Reads of scenarios for creators and admins, with the access rules built in.

A creator sees only their own scenarios and versions; admins see all. Another creator's version
is reported as missing (404), never as forbidden, so ids reveal nothing.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from apps.scenarios.models import Scenario, ScenarioVersion, VersionStatus
from rangex.core.errors import NotFound


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
        raise NotFound("No such scenario version.") from None


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
