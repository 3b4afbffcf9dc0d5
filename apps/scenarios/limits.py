"""Per-scenario limits (``scenario_limit``) and which scenarios a solver may start.

``allow_all_scenarios`` off: a solver starts only scenarios an admin granted them (the allow list,
``scenario_access_grant``). ``max_accessible_scenarios`` N > 0: a solver may play at most N
different scenarios; once N are started, only those stay open to them. Admins and creators (for
their own scenarios) are not limited. The catalog, the pages and the API all read
``accessible_scenario_ids``; starting a lab checks ``scenario_access_check``.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from apps.scenarios.models import Scenario, ScenarioAccessGrant, ScenarioLimit, ScenarioVersion
from rangex.core.audit import AuditAction, audit_record, full_clean_or_raise
from rangex.core.errors import LimitExceeded, PermissionDenied
from rangex.core.system import get_settings

LIMIT_FIELDS = ("max_concurrent_players", "max_sessions_per_user_per_day", "max_duration_minutes")


def _require_admin(actor) -> None:
    if not getattr(actor, "is_platform_admin", False):
        raise PermissionDenied(_("Only admins may change a scenario's limits and who may start it."))


@transaction.atomic
def scenario_limit_set(*, scenario: Scenario, actor, **values) -> ScenarioLimit:
    _require_admin(actor)
    limit, _ = ScenarioLimit.objects.select_for_update().get_or_create(scenario=scenario)
    old = {f: getattr(limit, f) for f in LIMIT_FIELDS}
    for field in LIMIT_FIELDS:
        if field in values:
            setattr(limit, field, values[field] or None)
    full_clean_or_raise(limit)
    limit.save()
    new = {f: getattr(limit, f) for f in LIMIT_FIELDS}
    audit_record(actor=actor, action=AuditAction.SCENARIO_LIMIT_SET, target=scenario, details={"old": old, "new": new})
    return limit


@transaction.atomic
def scenario_access_grant(*, scenario: Scenario, user, actor) -> ScenarioAccessGrant:
    _require_admin(actor)
    grant, created = ScenarioAccessGrant.objects.get_or_create(scenario=scenario, user=user)
    if created:
        audit_record(
            actor=actor, action=AuditAction.SCENARIO_ACCESS_GRANT, target=scenario, details={"user": str(user.pk)}
        )
    return grant


@transaction.atomic
def scenario_access_revoke(*, scenario: Scenario, user, actor) -> None:
    _require_admin(actor)
    if ScenarioAccessGrant.objects.filter(scenario=scenario, user=user).delete()[0]:
        audit_record(
            actor=actor, action=AuditAction.SCENARIO_ACCESS_REVOKE, target=scenario, details={"user": str(user.pk)}
        )


def _unlimited(user) -> bool:
    return bool(getattr(user, "is_platform_admin", False))


def _started_scenario_ids(user) -> set:
    return set(
        ScenarioVersion.objects.filter(environment_sessions__user=user, environment_sessions__is_test=False)
        .values_list("scenario_id", flat=True)
        .distinct()
    )


def accessible_scenario_ids(*, user) -> set | None:
    """The scenarios ``user`` may start, or ``None`` when the settings put no bound on them."""
    conf = get_settings()
    if _unlimited(user) or (conf.allow_all_scenarios and not conf.max_accessible_scenarios):
        return None
    if not getattr(user, "is_authenticated", False):
        # Visitors browse what a new account could start: nothing is bound but the allow list.
        return None if conf.allow_all_scenarios else set()
    own = set(Scenario.objects.filter(created_by_user=user).values_list("pk", flat=True))
    allowed: set | None = None
    if not conf.allow_all_scenarios:
        allowed = set(ScenarioAccessGrant.objects.filter(user=user).values_list("scenario_id", flat=True))
    cap = conf.max_accessible_scenarios
    if cap:
        started = _started_scenario_ids(user)
        if len(started) >= cap:
            allowed = started if allowed is None else allowed & started
    return None if allowed is None else allowed | own


def scenario_access_check(*, user, scenario: Scenario) -> None:
    """Refuse to start ``scenario`` when the allow list or the scenario cap leaves it out; says which."""
    ids = accessible_scenario_ids(user=user)
    if ids is None or scenario.pk in ids:
        return
    conf = get_settings()
    if not conf.allow_all_scenarios and not ScenarioAccessGrant.objects.filter(user=user, scenario=scenario).exists():
        raise PermissionDenied(_("You have not been given access to this scenario; ask an administrator."))
    raise LimitExceeded(
        _(
            "You have reached the limit of %(max_accessible_scenarios)s different scenarios per player "
            "(setting: max accessible scenarios)."
        )
        % {"max_accessible_scenarios": conf.max_accessible_scenarios},
        limit="max_accessible_scenarios",
    )
