"""Badge definitions and the award engine.

``badges_evaluate_for`` checks the badges a user has not earned yet and awards those whose every
requirement is met. Awarding is exactly-once: ``user_badge`` has a unique (user, badge) constraint
and each award inserts inside a savepoint, so a concurrent duplicate just loses the race quietly.
Each award is its own transaction, taken in badge-id order, so two evaluations never deadlock.

Triggers (``apps.badges.awards``, registered in ``BadgesConfig.ready``): a completed session
(``environments.hooks.session_completed``, which also covers the paths it finished), first blood and
a finished event (``events.hooks``), and the ``award_badges`` backfill command.

Whoever must react to an award registers on ``apps.badges.hooks.badge_awarded`` (run on commit).
"""

from __future__ import annotations

import logging
from functools import cached_property
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max, QuerySet
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.badges import event_rules, hooks
from apps.badges.models import Badge, BadgeRequirement, RequirementType, UserBadge
from apps.environments.models import EnvironmentSession
from apps.scenarios.models import ScenarioVersion
from rangex.core.audit import AuditAction, audit_record, full_clean_or_raise
from rangex.core.errors import PermissionDenied, ValidationFailed
from rangex.core.models import NotificationType
from rangex.core.notifications import notification_send

logger = logging.getLogger(__name__)

BADGE_FIELDS = ("name", "description", "criteria", "icon")
REQUIREMENT_FIELDS = ("requirement_type", "scenario", "count", "category", "difficulty", "min_score", "event_id",
                      "career_path")  # fmt: skip


# --- Definitions ------------------------------------------------------------------------------------


def badge_requirement_validate(requirement: BadgeRequirement) -> None:
    """Check a requirement's fields against its type and that what it references exists."""
    kind = requirement.requirement_type
    if kind not in RequirementType.values:
        raise ValidationFailed(
            _("Unknown requirement type %(kind)s.") % {"kind": repr(kind)},
            fields={"requirement_type": [_("Choose a known type.")]},
        )
    label = RequirementType(kind).label
    allowed = BadgeRequirement.FIELDS_BY_TYPE[kind]
    for name in BadgeRequirement.REQUIRED_BY_TYPE[kind]:
        value = getattr(requirement, f"{name}_id" if name in ("scenario", "career_path") else name)
        if value in (None, ""):
            raise ValidationFailed(
                _("“%(label)s” needs %(replace)s.") % {"label": label, "replace": name.replace("_", " ")},
                fields={name: [_("Required.")]},
            )
    for name in set(REQUIREMENT_FIELDS) - allowed - {"requirement_type"}:
        value = getattr(requirement, f"{name}_id" if name in ("scenario", "career_path") else name)
        if value not in (None, ""):
            raise ValidationFailed(
                _("“%(label)s” does not use %(replace)s; leave it empty.")
                % {"label": label, "replace": name.replace("_", " ")},
                fields={name: [_("Not used.")]},
            )
    if requirement.count is not None and requirement.count < 1:
        raise ValidationFailed(
            _("“%(label)s” needs a count of at least 1.") % {"label": label}, fields={"count": [_("At least 1.")]}
        )
    if requirement.scenario_id and not ScenarioVersion.objects.filter(pk=requirement.scenario_id).exists():
        raise ValidationFailed(
            _("No scenario version %(scenario_id)s exists.") % {"scenario_id": requirement.scenario_id},
            fields={"scenario": [_("No such scenario.")]},
        )
    if requirement.event_id and not event_rules.event_exists(requirement.event_id):
        raise ValidationFailed(
            _("No event %(event_id)s exists.") % {"event_id": requirement.event_id},
            fields={"event_id": [_("No such event.")]},
        )
    full_clean_or_raise(requirement, exclude=["badge"])


def _require_admin(actor) -> None:
    if not getattr(actor, "is_platform_admin", False):
        raise PermissionDenied(_("Only admins define badges."))


def _requirement_from(data: dict[str, Any], badge: Badge) -> BadgeRequirement:
    unknown = set(data) - set(REQUIREMENT_FIELDS)
    if unknown:
        raise ValidationFailed(_("Unknown requirement fields: %(items)s.") % {"items": ", ".join(sorted(unknown))})
    values = dict(data)
    for name in ("scenario", "career_path"):
        value = values.pop(name, None)
        values[f"{name}_id"] = getattr(value, "pk", value)
    return BadgeRequirement(badge=badge, **values)


@transaction.atomic
def badge_create(*, actor, name: str, description: str = "", criteria: str = "", icon=None,
                 requirements: list[dict[str, Any]] = ()) -> Badge:  # fmt: skip
    """Define a badge with its requirements (dicts of requirement fields); all or nothing."""
    _require_admin(actor)
    if not requirements:
        raise ValidationFailed(_("A badge needs at least one requirement."), fields={"requirements": [_("Required.")]})
    badge = Badge(name=(name or "").strip(), description=description, criteria=criteria, icon=icon)
    full_clean_or_raise(badge)
    badge.save()
    for position, data in enumerate(requirements, start=1):
        requirement = _requirement_from(data, badge)
        try:
            badge_requirement_validate(requirement)
        except ValidationFailed as exc:
            raise ValidationFailed(
                _("Requirement %(position)s: %(message)s") % {"position": position, "message": exc.message},
                fields=exc.fields,
            ) from None
        requirement.save()
    audit_record(
        actor=actor, action=AuditAction.BADGE_CREATE, target=badge, details={"requirements": len(requirements)}
    )
    return badge


@transaction.atomic
def badge_requirement_save(*, requirement: BadgeRequirement, actor) -> BadgeRequirement:
    """Validate and save one requirement (the admin's inline rows come through here)."""
    _require_admin(actor)
    badge_requirement_validate(requirement)
    is_new = requirement.pk is None
    requirement.save()
    audit_record(
        actor=actor,
        action=AuditAction.BADGE_REQUIREMENT_ADD if is_new else AuditAction.BADGE_REQUIREMENT_UPDATE,
        target=requirement.badge,
        details={"requirement": requirement.pk, "type": requirement.requirement_type},
    )
    return requirement


@transaction.atomic
def badge_requirement_delete(*, requirement: BadgeRequirement, actor) -> None:
    _require_admin(actor)
    audit_record(
        actor=actor, action=AuditAction.BADGE_REQUIREMENT_DELETE, target=requirement.badge,
        details={"requirement": requirement.pk, "type": requirement.requirement_type},
    )  # fmt: skip
    requirement.delete()


# --- Evaluation --------------------------------------------------------------------------------------


class _Facts:
    """What one user has achieved, each part read lazily, once."""

    def __init__(self, user):
        self.user = user

    def _sessions(self) -> QuerySet[EnvironmentSession]:
        return EnvironmentSession.objects.filter(user=self.user, is_test=False)

    @cached_property
    def completions(self) -> list[tuple[Any, str, str]]:
        return list(
            self._sessions()
            .filter(completed_at__isnull=False)
            .values_list("scenario_version__scenario_id", "scenario_version__category", "scenario_version__difficulty")
        )

    @cached_property
    def completed_scenarios(self) -> set:
        return {scenario_id for scenario_id, _, _ in self.completions}

    @cached_property
    def best_scores(self) -> dict[Any, int]:
        rows = self._sessions().values("scenario_version__scenario_id").annotate(best=Max("score"))
        return {row["scenario_version__scenario_id"]: row["best"] for row in rows}

    @cached_property
    def completed_paths(self) -> set:
        from apps.paths.selectors import career_paths_completed

        return career_paths_completed(user=self.user)

    def count_completed(self, *, category: str, difficulty: str) -> int:
        return len(
            {
                scenario_id
                for scenario_id, cat, diff in self.completions
                if (not category or cat.lower() == category.lower())
                and (not difficulty or diff.lower() == difficulty.lower())
            }
        )


def _met(requirement: BadgeRequirement, facts: _Facts) -> bool:
    kind = requirement.requirement_type
    if kind == RequirementType.COMPLETE_SCENARIO:
        return requirement.scenario.scenario_id in facts.completed_scenarios
    if kind == RequirementType.COMPLETE_COUNT:
        done = facts.count_completed(category=requirement.category, difficulty=requirement.difficulty)
        return done >= (requirement.count or 1)
    if kind == RequirementType.MIN_SCORE:
        best = facts.best_scores.get(requirement.scenario.scenario_id)
        return best is not None and best >= (requirement.min_score or 0)
    if kind == RequirementType.COMPLETE_PATH:
        return requirement.career_path_id in facts.completed_paths
    if kind == RequirementType.EVENT_TOP_N:
        return event_rules.event_top_n_met(user=facts.user, event_id=requirement.event_id, n=requirement.count or 1)
    if kind == RequirementType.EVENT_FIRST_BLOOD:
        return event_rules.event_first_blood_met(user=facts.user, event_id=requirement.event_id)
    if kind == RequirementType.EVENT_FINISHER:
        return event_rules.event_finisher_met(user=facts.user, event_id=requirement.event_id)
    return False


def badge_requirements_met(*, badge: Badge, user, _facts: _Facts | None = None) -> bool:
    """Return True when ``user`` meets every requirement of ``badge`` (a badge without any is never met)."""
    facts = _facts or _Facts(user)
    requirements = list(badge.requirements.all())
    return bool(requirements) and all(_met(r, facts) for r in requirements)


def user_badge_award(*, user, badge: Badge, trigger: str) -> UserBadge | None:
    """Award ``badge`` to ``user`` once; return the new row, or None when it was already earned."""
    with transaction.atomic():
        try:
            # The savepoint lets a concurrent duplicate fail on the unique constraint without
            # breaking the surrounding transaction.
            with transaction.atomic():
                award = UserBadge.objects.create(user=user, badge=badge, earned_at=timezone.now())
        except IntegrityError:
            return None
        audit_record(
            actor=None, action=AuditAction.BADGE_AWARD, target=award,
            details={"badge": str(badge.pk), "user": str(user.pk), "trigger": trigger},
        )  # fmt: skip
        notification_send(
            user=user,
            type=NotificationType.BADGE,
            title=format_lazy(gettext_lazy("Badge earned: {name}"), name=badge.name),
            body=badge.description or badge.criteria,
            link=badge.get_absolute_url(),
        )
        award_id = award.pk
        transaction.on_commit(lambda: _run_awarded_hooks(award_id))
    return award


def user_badge_revoke(*, award: UserBadge, reason: str) -> None:
    """Take back an award its owner no longer qualifies for (standings changed); audited, the owner told."""
    with transaction.atomic():
        deleted, _ = UserBadge.objects.filter(pk=award.pk).delete()
        if not deleted:
            return
        audit_record(
            actor=None, action=AuditAction.BADGE_REVOKE, target=award.badge,
            details={"user": str(award.user_id), "reason": reason},
        )  # fmt: skip
        notification_send(
            user=award.user,
            type=NotificationType.BADGE,
            title=format_lazy(gettext_lazy("Badge withdrawn: {name}"), name=award.badge.name),
            body=reason,
            link=award.badge.get_absolute_url(),
        )


def _run_awarded_hooks(user_badge_id) -> None:
    for receiver in hooks.badge_awarded.receivers:
        try:
            receiver(user_badge_id=user_badge_id)
        except Exception:
            logger.exception("badge-awarded receiver %s failed for user badge %s", receiver, user_badge_id)


def badges_evaluate_for(*, user, trigger: str, badges: QuerySet[Badge] | None = None) -> list[UserBadge]:
    """Award every badge ``user`` now qualifies for and has not earned yet; return the new awards.

    Safe to call any number of times and concurrently: the unique constraint keeps one award.
    """
    if user is None or not getattr(user, "is_active", False):
        return []
    candidates = (badges if badges is not None else Badge.objects.all()).exclude(awards__user=user)
    candidates = candidates.prefetch_related("requirements__scenario").order_by("pk")
    facts = _Facts(user)
    awarded = []
    for badge in candidates:
        if badge_requirements_met(badge=badge, user=user, _facts=facts):
            award = user_badge_award(user=user, badge=badge, trigger=trigger)
            if award is not None:
                awarded.append(award)
    return awarded


def badges_evaluate_for_users(*, user_ids, trigger: str) -> int:
    """Evaluate many users (e.g. an event's participants when it finishes); return the awards made."""
    from apps.accounts.models import User

    total = 0
    for user in User.objects.filter(pk__in=list(user_ids), is_active=True).order_by("pk"):
        total += len(badges_evaluate_for(user=user, trigger=trigger))
    return total


@transaction.atomic
def badge_save(*, badge: Badge, actor) -> Badge:
    """Create or update a badge edited in the admin; its requirements are saved one by one afterwards."""
    _require_admin(actor)
    full_clean_or_raise(badge)
    is_new = badge._state.adding
    badge.save()
    audit_record(actor=actor, action=AuditAction.BADGE_CREATE if is_new else AuditAction.BADGE_UPDATE, target=badge)
    return badge


@transaction.atomic
def badge_delete(*, badge: Badge, actor) -> None:
    """Remove a badge definition, its requirements and every award of it (audited with the count)."""
    _require_admin(actor)
    badge = Badge.objects.select_for_update().get(pk=badge.pk)
    awards = badge.awards.count()
    audit_record(actor=actor, action=AuditAction.BADGE_DELETE, target=badge, details={"awards_removed": awards})
    badge.delete()
