"""Solvers' ratings and favourites of scenarios."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import Avg, Count
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from apps.scenarios import hooks
from apps.scenarios.models import Scenario, ScenarioRating, UserFavorite
from rangex.core.audit import AuditAction, audit_record
from rangex.core.errors import PermissionDenied, ValidationFailed

RATING_MESSAGE = gettext_noop("A rating is a whole number from 1 to 5.")
NOT_PLAYED_MESSAGE = gettext_noop("You can rate this scenario once you have finished a session of it.")


def _clean_rating(rating) -> int:
    if isinstance(rating, bool):
        raise ValidationFailed(_(RATING_MESSAGE), fields={"rating": [_(RATING_MESSAGE)]})
    try:
        value = int(str(rating).strip())
    except (TypeError, ValueError):
        raise ValidationFailed(_(RATING_MESSAGE), fields={"rating": [_(RATING_MESSAGE)]}) from None
    if not 1 <= value <= 5:
        raise ValidationFailed(_(RATING_MESSAGE), fields={"rating": [_(RATING_MESSAGE)]})
    return value


def _require_user(user) -> None:
    if user is None or not user.is_authenticated:
        raise PermissionDenied(_("Sign in to rate scenarios or keep favourites."))


def scenario_played(*, user, scenario: Scenario) -> bool:
    """Return whether ``user`` finished a session of ``scenario``, which rating it requires."""
    if user is None or not user.is_authenticated:
        return False
    return hooks.scenario_played.any(user=user, scenario=scenario)


def scenario_rate(*, user, scenario: Scenario, rating) -> ScenarioRating:
    """Record or change ``user``'s rating of ``scenario`` and recompute its average and count.

    Only a user who has finished a session of the scenario may rate it, so ratings come from players.
    """
    _require_user(user)
    value = _clean_rating(rating)
    if scenario.created_by_user_id == user.pk:
        raise PermissionDenied(_("You cannot rate your own scenario."))
    with transaction.atomic():
        # The scenario row lock serialises concurrent ratings, so the recomputed average and
        # count always describe exactly the committed rating rows.
        locked = Scenario.objects.select_for_update().get(pk=scenario.pk)
        if not locked.is_published:
            raise ValidationFailed(_("Only published scenarios can be rated."))
        if not scenario_played(user=user, scenario=locked):
            raise PermissionDenied(_(NOT_PLAYED_MESSAGE))
        existing = ScenarioRating.objects.filter(user=user, scenario=locked).first()
        old = existing.rating if existing else None
        if existing is None:
            existing = ScenarioRating.objects.create(user=user, scenario=locked, rating=value)
        elif existing.rating != value:
            existing.rating = value
            existing.save(update_fields=["rating", "updated_at"])
        totals = ScenarioRating.objects.filter(scenario=locked).aggregate(average=Avg("rating"), count=Count("id"))
        locked.average_rating = Decimal(str(totals["average"] or 0)).quantize(Decimal("0.01"), ROUND_HALF_UP)
        locked.total_ratings = totals["count"]
        locked.save(update_fields=["average_rating", "total_ratings"])
        audit_record(actor=user, action=AuditAction.SCENARIO_RATE, target=locked, details={"old": old, "new": value})
    scenario.average_rating = locked.average_rating
    scenario.total_ratings = locked.total_ratings
    return existing


def scenario_favorite_set(*, user, scenario: Scenario, on: bool) -> bool:
    """Star (``on=True``) or unstar a scenario for ``user``; repeating a call changes nothing. Return ``on``."""
    _require_user(user)
    with transaction.atomic():
        if on:
            _, created = UserFavorite.objects.get_or_create(user=user, scenario=scenario)
            changed = created
        else:
            changed = UserFavorite.objects.filter(user=user, scenario=scenario).delete()[0] > 0
        if changed:
            audit_record(
                actor=user,
                action=AuditAction.SCENARIO_FAVORITE if on else AuditAction.SCENARIO_UNFAVORITE,
                target=scenario,
            )
    return on
