"""Money: cost accrual, the daily usage rollup, per-scenario monthly budgets and the global cap.

Costs are in RM; the global cap is set in USD and converted with ``settings.RANGEX_RM_PER_USD``.
"""

from __future__ import annotations

import calendar
import logging
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Case, DateTimeField, DecimalField, F, OuterRef, Q, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.environments import services as env_services
from apps.environments.models import (
    LIVE_STATUSES,
    DeploymentEnvironment,
    EnvironmentMachine,
    EnvironmentSession,
    SessionStatus,
)
from apps.images.profiles import PROFILES, profile_limits
from apps.ops.alerts import alert_send
from apps.ops.models import AlertLog, BudgetAlert, UsageDaily
from rangex.core.audit import AuditAction, audit_record
from rangex.core.system import budget_pause_set, get_settings

logger = logging.getLogger(__name__)

FOUR = Decimal("0.0001")
TWO = Decimal("0.01")
DEFAULT_SOFT_THRESHOLD = Decimal("80")


def _rm_per_usd() -> Decimal:
    return Decimal(str(getattr(settings, "RANGEX_RM_PER_USD", "4.70")))


def _rate_subquery() -> Subquery:
    """Return the hourly rate of the outer session: the sum over its machines of the variant's cost, else the profile's.

    The rule of ``cost_rate_rm``, computed by the database for every due session in the lock query.
    """
    by_profile = Case(
        *(When(machine__resource_profile=name, then=Value(limits.hourly_cost_rm)) for name, limits in PROFILES.items()),
        default=Value(profile_limits("small").hourly_cost_rm),
        output_field=DecimalField(),
    )
    rate = Coalesce("machine__image_variant__hourly_cost_rm", by_profile, output_field=DecimalField())
    machines = (
        EnvironmentMachine.objects.filter(environment_session=OuterRef("pk"))
        .order_by()
        .values("environment_session")
        .annotate(rate=Sum(rate))
        .values("rate")
    )
    return Subquery(machines, output_field=DecimalField())


def _round(value: Decimal, places: Decimal) -> Decimal:
    return value.quantize(places, rounding=ROUND_HALF_UP)


def _case_by_value(values: dict, output_field) -> Case:
    """Return ``CASE WHEN pk IN (...) THEN value ...`` with one branch per distinct value.

    Most rows of a pass share their value (the same rate over the same minute; the same new
    ``cost_accrued_until``), so the statement stays short: one branch per row made MariaDB compare
    every row with every branch, which took seconds at 5,000 sessions.
    """
    groups: dict = defaultdict(list)
    for pk, value in values.items():
        groups[value].append(pk)
    return Case(*(When(pk__in=pks, then=Value(value)) for value, pks in groups.items()), output_field=output_field)


# The last part of a stopped session is charged by the passes of the next day; older stops are
# history, not charged again (and a large table is not scanned for them every minute).
STOPPED_CHARGE_WINDOW = timedelta(days=1)


def cost_accrue(*, now=None) -> dict[str, int]:
    """Charge every running session up to now, and every stopped one up to its stop; enforce the users' budgets.

    A session is charged from ``cost_accrued_until`` (else its start) to now while it runs, and to
    ``stopped_at`` once it has stopped: the last part-minute of a stopped session is charged by
    the next pass, and a session shorter than the pass interval is charged at all.

    The due rows are locked first (``select_for_update``): a racing pass waits, then finds them
    charged up to the new ``cost_accrued_until`` and charges only what came after, so no period is
    charged twice. The users, then the sessions, are charged by one statement each (a ``CASE`` with
    a branch per distinct amount), so the query count does not grow with the number of sessions.
    The statements are the ORM's, so the accrual runs on MariaDB and on the embedded SQLite
    default alike.
    """
    now = now or timezone.now()
    since = Coalesce("cost_accrued_until", "started_at", "created_at")
    running = Q(status=SessionStatus.RUNNING, accrue_from__lt=now)
    stopped = Q(
        stopped_at__gte=now - STOPPED_CHARGE_WINDOW, started_at__isnull=False, accrue_from__lt=F("stopped_at")
    ) & ~Q(status=SessionStatus.RUNNING)
    with transaction.atomic():
        due = list(
            EnvironmentSession.objects.select_for_update()
            .annotate(accrue_from=since, rate=_rate_subquery())
            .filter(running | stopped)
            .values_list(
                "pk", "user_id", "status", "accrue_from", "stopped_at", "cost_accumulated_rm", "rate",
                "runtime_backend", "is_test",
            )
        )
        if not due:
            return {"charged": 0, "warned": 0, "stopped": 0}
        # Sessions on a backend with its own prices (Fargate) are charged at those.
        priced = env_services.runtime_rates_rm([(row[0], row[7]) for row in due], rm_per_usd=_rm_per_usd())
        due = [(*row[:6], priced.get(row[0], row[6]), row[8]) for row in due]
        charges: dict = {}
        user_charges: dict = defaultdict(Decimal)
        for pk, user_id, status, start, stopped_at, accumulated, rate, is_test in due:
            until = now if status == SessionStatus.RUNNING else min(stopped_at, now)
            micro = Decimal((until - start) // timedelta(microseconds=1))
            amount = _round((rate or Decimal("0")) * micro / Decimal(3_600_000_000), FOUR)
            charges[pk] = (amount, until)
            # The user's balance keeps two decimals; charging the change of the rounded session total
            # keeps tiny per-minute amounts from being rounded away.
            if is_test:
                # A test deployment's cost stays on its session (and test_deployment), not the admin's budget.
                continue
            user_charges[user_id] += _round(accumulated + amount, TWO) - _round(accumulated, TWO)
        user_charges = {uid: d for uid, d in user_charges.items() if d}
        if user_charges:
            get_user_model().objects.filter(pk__in=list(user_charges)).update(
                budget_spent_rm=F("budget_spent_rm") + _case_by_value(user_charges, DecimalField())
            )
        charged = EnvironmentSession.objects.filter(pk__in=list(charges)).update(
            cost_accumulated_rm=F("cost_accumulated_rm")
            + _case_by_value({pk: a for pk, (a, _) in charges.items()}, DecimalField()),
            cost_accrued_until=_case_by_value({pk: u for pk, (_, u) in charges.items()}, DateTimeField()),
        )
    limits = budget_limits_enforce(user_ids={user_id for _, user_id, *_ in due})
    return {"charged": charged, **limits}


def cost_skip_downtime(*, session_id, down_since: datetime, until: datetime) -> Decimal:
    """Charge a session up to ``down_since`` and nothing from then until ``until``: its lab was down.

    Accrual may already have charged past ``down_since`` (it charges every running session each
    minute); that part is given back, to the session and to its user. Accrual then continues from
    ``until``. Return the change in the session's cost (negative when money was given back).
    """
    from decimal import ROUND_HALF_UP

    User = get_user_model()
    with transaction.atomic():
        session = EnvironmentSession.objects.select_for_update().get(pk=session_id)
        start = session.started_at or session.created_at
        down_since = max(down_since, start)
        charged_until = session.cost_accrued_until or start
        rate = env_services.cost_rate_rm(session)
        seconds = Decimal(str((down_since - charged_until).total_seconds()))
        old = session.cost_accumulated_rm
        new = max(old + (rate * seconds / Decimal(3600)).quantize(FOUR, rounding=ROUND_HALF_UP), Decimal("0"))
        session.cost_accumulated_rm = new
        session.cost_accrued_until = max(until, down_since)
        session.save(update_fields=["cost_accumulated_rm", "cost_accrued_until"])
        # The user's balance keeps two decimals, charged as the change of the rounded session total (as accrual does).
        user_change = new.quantize(TWO, rounding=ROUND_HALF_UP) - old.quantize(TWO, rounding=ROUND_HALF_UP)
        if user_change:
            User.objects.filter(pk=session.user_id).update(budget_spent_rm=F("budget_spent_rm") + user_change)
    return new - old


def _prefs_of(user):
    from apps.accounts.models import CreatorPreferences

    return CreatorPreferences.objects.filter(user=user).first()


def _soft_threshold(own, creators) -> Decimal:
    """Return the percentage of the budget at which a user is warned: theirs, else the scenario creator's."""
    for prefs in (own, creators):
        if prefs is not None and prefs.cost_alert_threshold:
            return prefs.cost_alert_threshold
    return DEFAULT_SOFT_THRESHOLD


def budget_limits_enforce(*, user_ids) -> dict[str, int]:
    """Warn once per session at a user's soft limit; stop the user's sessions at the hard limit."""
    from apps.accounts.models import CreatorPreferences
    from rangex.core.notifications import notification_send

    User = get_user_model()
    users = {u.pk: u for u in User.objects.filter(pk__in=list(user_ids), budget_limit_rm__gt=0)}
    prefs = {p.user_id: p for p in CreatorPreferences.objects.filter(user_id__in=list(users))}
    warned = stopped = 0
    # A question-only session costs nothing, so a spent budget does not stop it.
    live = (
        EnvironmentSession.objects.filter(user_id__in=list(users), status=SessionStatus.RUNNING, is_test=False)
        .exclude(scenario_version__requires_machines=False)
        .select_related("scenario_version__scenario__created_by_user")
    )
    for session in live:
        user = users[session.user_id]
        if user.budget_spent_rm >= user.budget_limit_rm:
            if env_services.env_session_stop_for_platform(
                session=session, reason=f"Your budget of RM {user.budget_limit_rm} is used up."
            ):
                stopped += 1
            continue
        if session.soft_limit_warned:
            continue
        creator = session.scenario_version.scenario.created_by_user
        threshold = _soft_threshold(prefs.get(user.pk), prefs.get(creator.pk) or _prefs_of(creator))
        if user.budget_spent_rm * 100 < user.budget_limit_rm * threshold:
            continue
        with transaction.atomic():
            if not EnvironmentSession.objects.filter(pk=session.pk, soft_limit_warned=False).update(
                soft_limit_warned=True
            ):
                continue
            notification_send(
                user=user,
                type="budget",
                title="You have used most of your lab budget",
                body=(
                    f"You have spent RM {user.budget_spent_rm} of your RM {user.budget_limit_rm} budget. "
                    "Your labs stop when it is used up."
                ),
                link=f"/sessions/{session.pk}/",
            )
            audit_record(actor=None, action=AuditAction.SESSION_SOFT_LIMIT_WARNED, target=session)
        warned += 1
    return {"warned": warned, "stopped": stopped}


# --- Daily rollup ---------------------------------------------------------------------------------


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = timezone.make_aware(datetime.combine(day, time.min), timezone.get_default_timezone())
    return start, start + timedelta(days=1)


def usage_rollup(*, day: date | None = None, now=None) -> UsageDaily:
    """Recompute ``usage_daily`` for ``day`` (default: today) from the sessions that ran in it."""
    now = now or timezone.now()
    day = day or timezone.localdate(now)
    start, end = _day_bounds(day)
    sessions = list(
        EnvironmentSession.objects.filter(started_at__lt=min(end, now))
        .exclude(ended_at__lt=start)
        .exclude(started_at__isnull=True)
        .only("id", "env_profile", "started_at", "ended_at", "stopped_at", "status")
    )
    hours_by_profile: dict[str, Decimal] = defaultdict(Decimal)
    machine_rows = EnvironmentMachine.objects.filter(environment_session_id__in=[s.pk for s in sessions]).values_list(
        "environment_session_id", "machine__image_variant__hourly_cost_rm", "machine__resource_profile"
    )
    machines = defaultdict(list)
    for session_id, variant_cost, profile in machine_rows:
        machines[session_id].append((variant_cost, profile or "small"))
    total = vcpu = memory = Decimal("0")
    for s in sessions:
        finish = s.ended_at or (s.stopped_at if s.status not in LIVE_STATUSES else None) or now
        lo, hi = max(s.started_at, start), min(finish, end, now)
        if hi <= lo:
            continue
        hours = Decimal((hi - lo).total_seconds()) / Decimal(3600)
        hours_by_profile[s.env_profile] += hours
        for variant_cost, profile in machines[s.pk]:
            limits = profile_limits(profile)
            total += (variant_cost if variant_cost is not None else limits.hourly_cost_rm) * hours
            vcpu += limits.vcpu_share_rm * hours
            memory += limits.memory_share_rm * hours
    row, _ = UsageDaily.objects.update_or_create(
        date=day,
        defaults={
            "env_hours_micro": hours_by_profile["micro"].quantize(FOUR),
            "env_hours_small": hours_by_profile["small"].quantize(FOUR),
            "env_hours_medium": hours_by_profile["medium"].quantize(FOUR),
            "env_hours_large": hours_by_profile["large"].quantize(FOUR),
            "total_estimated_cost_rm": total.quantize(FOUR),
            "vcpu_cost_rm": vcpu.quantize(FOUR),
            "memory_cost_rm": memory.quantize(FOUR),
        },
    )
    return row


# --- Monthly budgets ------------------------------------------------------------------------------


def month_start(moment=None) -> date:
    return timezone.localdate(moment or timezone.now()).replace(day=1)


def month_cost_rm(*, month: date, scenario_id=None) -> Decimal:
    """Return the accrued cost of the sessions started in ``month`` (of one scenario, or all), and of
    the warm pools' environments made in it (parked machines cost money too)."""
    start, _ = _day_bounds(month)
    end, _ = _day_bounds(month.replace(day=calendar.monthrange(month.year, month.month)[1]) + timedelta(days=1))
    qs = EnvironmentSession.objects.filter(created_at__gte=start, created_at__lt=end)
    pools = DeploymentEnvironment.objects.filter(pool__isnull=False, created_at__gte=start, created_at__lt=end)
    if scenario_id is not None:
        qs = qs.filter(scenario_version__scenario_id=scenario_id)
        pools = pools.filter(scenario_version__scenario_id=scenario_id)
    sessions = qs.aggregate(total=Sum("cost_accumulated_rm"))["total"] or Decimal("0")
    return sessions + (pools.aggregate(total=Sum("cost_accumulated_rm"))["total"] or Decimal("0"))


def month_pool_cost_rm(*, month: date) -> Decimal:
    """Return what the warm pools' environments made in ``month`` cost while parked (the dashboard's own line)."""
    start, _ = _day_bounds(month)
    end, _ = _day_bounds(month.replace(day=calendar.monthrange(month.year, month.month)[1]) + timedelta(days=1))
    pools = DeploymentEnvironment.objects.filter(pool__isnull=False, created_at__gte=start, created_at__lt=end)
    return pools.aggregate(total=Sum("cost_accumulated_rm"))["total"] or Decimal("0")


def pool_budget(*, now=None, **_) -> env_services.PoolBudget:
    """Return what the warm pools may spend: what is left under the monthly cap (RM), and whether
    they may fill at all (not at the cap, not paused for the budget, not in maintenance)."""
    conf = get_settings()
    state = budget_cap_state(now=now)
    left = None
    if state["cap_usd"]:
        left = max((state["cap_usd"] - state["cost_usd"]) * _rm_per_usd(), Decimal("0"))
    may_spend = not state["reached"] and not conf.maintenance_active
    return env_services.PoolBudget(left_rm=left, may_spend=may_spend)


def pools_maintain(*, now=None) -> dict[str, int]:
    """Run the warm pools' pass within the platform's budget (the beat task's body)."""
    return env_services.pools_maintain(now=now, budget=pool_budget(now=now))


def month_rollup_rm(*, month: date) -> Decimal:
    """Return the month's cost from the daily rollup: the time each session ran in the month, day by day."""
    last = month.replace(day=calendar.monthrange(month.year, month.month)[1])
    total = UsageDaily.objects.filter(date__gte=month, date__lte=last).aggregate(total=Sum("total_estimated_cost_rm"))
    return total["total"] or Decimal("0")


def month_spend_rm(*, month: date) -> Decimal:
    """Return the platform's spend of ``month``: the higher of the accrued and the rolled-up figures.

    The accrual books a session's whole cost in the month it was created in and lags by up to a
    pass; the rollup books each hour in the day it ran (today's row included), so a session that
    began last month still counts this month. The cap and the dashboard use the higher figure, so
    the cap is never enforced on an undercount and "Cost today" never exceeds "This month".
    """
    return max(month_cost_rm(month=month), month_rollup_rm(month=month))


def _forecast(cost: Decimal, month: date, now) -> Decimal:
    days = calendar.monthrange(month.year, month.month)[1]
    start, _ = _day_bounds(month)
    elapsed_days = max(Decimal((now - start).total_seconds()) / Decimal(86400), Decimal("0.0417"))
    return (cost / elapsed_days * days).quantize(FOUR)


def _carry_over_budgets(month: date) -> None:
    """Give every scenario with a budget last month the same budget this month."""
    previous = (month - timedelta(days=1)).replace(day=1)
    have = set(BudgetAlert.objects.filter(alert_month=month).values_list("scenario_id", flat=True))
    for old in BudgetAlert.objects.filter(alert_month=previous).exclude(scenario_id__in=have):
        BudgetAlert.objects.get_or_create(
            scenario_id=old.scenario_id,
            alert_month=month,
            defaults={
                "budget_limit": old.budget_limit,
                "alert_percentage": old.alert_percentage,
                "grace_period_hours": old.grace_period_hours,
                "auto_shutdown_enabled": old.auto_shutdown_enabled,
            },
        )


def _advance(budget: BudgetAlert, old: str, **changes) -> bool:
    """Move a budget from ``old`` to a new state; False when a racing pass moved it first."""
    return bool(BudgetAlert.objects.filter(pk=budget.pk, status=old).update(**changes, updated_at=timezone.now()))


def scenario_budgets_check(*, now=None) -> dict[str, int]:
    """Update every scenario budget of this month; alert, open the grace period, then shut down."""
    now = now or timezone.now()
    month = month_start(now)
    _carry_over_budgets(month)
    counts = {"checked": 0, "alerted": 0, "grace": 0, "shutdown": 0}
    for budget in BudgetAlert.objects.filter(alert_month=month).select_related("scenario"):
        counts["checked"] += 1
        cost = month_cost_rm(month=month, scenario_id=budget.scenario_id)
        budget.current_cost = cost
        budget.percentage_used = (cost * 100 / budget.budget_limit).quantize(TWO)
        budget.forecast_end_of_month = _forecast(cost, month, now)
        BudgetAlert.objects.filter(pk=budget.pk).update(
            current_cost=cost,
            percentage_used=budget.percentage_used,
            forecast_end_of_month=budget.forecast_end_of_month,
            updated_at=now,
        )
        counts["alerted"] += _budget_alert(budget)
        counts["grace"] += _budget_grace(budget, now)
        counts["shutdown"] += _budget_shutdown(budget, now)
    return counts


def scenario_budget_start_check(*, user, version, now) -> None:
    """Refuse a start of a scenario whose monthly budget was spent (a session start check)."""
    from rangex.core.errors import LimitExceeded

    month = month_start(now)
    spent = BudgetAlert.objects.filter(
        scenario_id=version.scenario_id, alert_month=month, status=BudgetAlert.Status.SHUTDOWN
    )
    if spent.exists():
        raise LimitExceeded(
            _("This scenario has used its budget for the month and is closed until the next month."),
            limit="scenario_monthly_budget",
        )


def _budget_alert(budget: BudgetAlert) -> int:
    pct = budget.percentage_used
    if budget.status != BudgetAlert.Status.OK or pct < budget.alert_percentage:
        return 0
    if not _advance(budget, BudgetAlert.Status.OK, status=BudgetAlert.Status.ALERTED, admin_notified=True):
        return 0
    budget.status = BudgetAlert.Status.ALERTED
    alert_send(
        alert_type=AlertLog.AlertType.BUDGET,
        priority=AlertLog.Priority.MEDIUM,
        subject=f"Scenario {budget.scenario.slug!r} used {pct}% of its monthly budget",
        message=f"RM {budget.current_cost:.2f} of RM {budget.budget_limit}; "
        f"forecast for the month: RM {budget.forecast_end_of_month:.2f}.",
        metadata={"budget_alert": budget.pk},
        link=_budget_link(budget),
        next_step="Raise the scenario's budget, or let it run: at 100 % a grace period starts.",
    )
    return 1


def _budget_grace(budget: BudgetAlert, now) -> int:
    if budget.status not in (BudgetAlert.Status.OK, BudgetAlert.Status.ALERTED) or budget.percentage_used < 100:
        return 0
    ends = now + timedelta(hours=budget.grace_period_hours)
    changes = {"grace_period_starts": now, "grace_period_ends": ends, "admin_notified": True}
    if not _advance(budget, budget.status, status=BudgetAlert.Status.GRACE, **changes):
        return 0
    budget.status, budget.grace_period_ends = BudgetAlert.Status.GRACE, ends
    action = "its labs stop" if budget.auto_shutdown_enabled else "nothing stops automatically"
    alert_send(
        alert_type=AlertLog.AlertType.BUDGET,
        priority=AlertLog.Priority.HIGH,
        subject=f"Scenario {budget.scenario.slug!r} is over its monthly budget",
        message=f"RM {budget.current_cost:.2f} of RM {budget.budget_limit}. "
        f"Grace period until {ends:%Y-%m-%d %H:%M}; then {action}.",
        metadata={"budget_alert": budget.pk},
        link=_budget_link(budget),
        next_step="Raise the scenario's budget before the grace period ends, or accept the shutdown.",
    )
    return 1


def _budget_shutdown(budget: BudgetAlert, now) -> int:
    if (
        budget.status != BudgetAlert.Status.GRACE
        or not budget.auto_shutdown_enabled
        or budget.grace_period_ends is None
        or now < budget.grace_period_ends
    ):
        return 0
    if not _advance(budget, BudgetAlert.Status.GRACE, status=BudgetAlert.Status.SHUTDOWN, shutdown_at=now):
        return 0
    budget.status = BudgetAlert.Status.SHUTDOWN
    stopped = 0
    live = EnvironmentSession.objects.filter(scenario_version__scenario_id=budget.scenario_id, status__in=LIVE_STATUSES)
    for session in live:
        stopped += env_services.env_session_stop_for_platform(
            session=session, reason="This scenario's monthly budget is used up."
        )
    audit_record(actor=None, action=AuditAction.BUDGET_SHUTDOWN, target=budget, details={"sessions_stopped": stopped})
    alert_send(
        alert_type=AlertLog.AlertType.BUDGET,
        priority=AlertLog.Priority.CRITICAL,
        subject=f"Scenario {budget.scenario.slug!r} shut down: monthly budget used up",
        message=f"{stopped} session(s) stopped.",
        metadata={"budget_alert": budget.pk},
        link=_budget_link(budget),
        next_step="The scenario stays closed until next month; raise its budget to reopen it now.",
    )
    return 1


def _cap_link() -> str:
    return reverse("admin:core_systemsettings_change", args=[1])


def _budget_link(budget: BudgetAlert) -> str:
    return reverse("admin:ops_budgetalert_change", args=[budget.pk])


def budget_cap_state(*, now=None) -> dict:
    """Return this month's spend in USD against ``budget_hard_cap_usd`` and whether the cap is reached."""
    now = now or timezone.now()
    cap = get_settings().budget_hard_cap_usd
    cost_usd = (month_spend_rm(month=month_start(now)) / _rm_per_usd()).quantize(TWO)
    return {"cost_usd": cost_usd, "cap_usd": cap, "reached": bool(cap) and cost_usd >= cap}


def budget_cap_check(*, now=None) -> dict:
    """Compare this month's cost with ``budget_hard_cap_usd``; at the cap, alert and maybe pause RangeX.

    The pause is the budget's own flag (``budget_paused``), apart from the operator's maintenance
    switch and message. An operator who resumed RangeX over the cap wins for the rest of the month:
    nothing is paused or stopped again, and the admins are told once that the cap is still exceeded.
    """
    now = now or timezone.now()
    conf = get_settings()
    month = month_start(now)
    state = {**budget_cap_state(now=now), "stopped": 0, "overridden": False}
    cost_usd, cap = state["cost_usd"], state["cap_usd"]
    if not cap:
        return state
    if not state["reached"]:
        if cost_usd * 100 >= cap * conf.budget_alert_percentage:
            alert_send(
                alert_type=AlertLog.AlertType.BUDGET_CAP,
                priority=AlertLog.Priority.HIGH,
                subject=f"Monthly spend at {cost_usd * 100 / cap:.0f}% of the budget cap",
                message=f"USD {cost_usd} of USD {cap} this month.",
                dedupe_key=f"budget_cap_warning:{month:%Y-%m}",
                dedupe_minutes=31 * 24 * 60,
                link=_cap_link(),
                next_step="Raise budget_hard_cap_usd in the system settings, or expect RangeX to pause at the cap.",
            )
        return state
    if conf.auto_maintenance_on_budget_cap and conf.budget_override_month == month:
        state["overridden"] = True
        logger.warning("budget cap exceeded (USD %s of USD %s) but an operator resumed RangeX", cost_usd, cap)
        alert_send(
            alert_type=AlertLog.AlertType.BUDGET_CAP,
            priority=AlertLog.Priority.HIGH,
            subject=f"Budget cap still exceeded: USD {cost_usd} of USD {cap}; an operator resumed RangeX",
            message="RangeX stays open for the rest of the month. Run `manage.py maintenance clear-override` "
            "to let the budget check pause it again.",
            dedupe_key=f"budget_cap_override:{month:%Y-%m}",
            dedupe_minutes=31 * 24 * 60,
            link=_cap_link(),
            next_step="Raise budget_hard_cap_usd, or run manage.py maintenance clear-override to pause RangeX again.",
        )
        return state
    if conf.auto_maintenance_on_budget_cap:
        budget_pause_set(paused=True, details={"cost_usd": cost_usd, "cap_usd": cap})
        for session in EnvironmentSession.objects.filter(status__in=LIVE_STATUSES):
            logger.warning(
                "budget cap USD %s reached (USD %s this month): stopping session %s (user %s, scenario version %s, %s)",
                conf.budget_hard_cap_usd, cost_usd, session.pk, session.user_id, session.scenario_version_id,
                session.status,
            )  # fmt: skip
            state["stopped"] += env_services.env_session_stop_for_platform(
                session=session, reason="The platform reached its monthly budget."
            )
    alert_send(
        alert_type=AlertLog.AlertType.BUDGET_CAP,
        priority=AlertLog.Priority.CRITICAL,
        subject=f"Monthly budget cap reached: USD {cost_usd} of USD {cap}",
        message=(
            "RangeX is paused for the budget and every session was stopped."
            if conf.auto_maintenance_on_budget_cap
            else "auto_maintenance_on_budget_cap is off: sessions keep running."
        ),
        dedupe_key=f"budget_cap:{month:%Y-%m}",
        dedupe_minutes=31 * 24 * 60,
        link=_cap_link(),
        next_step="Raise budget_hard_cap_usd in the system settings, then run manage.py maintenance off to resume "
        "(it wins over the budget check for the rest of the month).",
    )
    return state


def budget_report(*, month: date) -> dict:
    """Return the month's total and per-scenario budgets for the report command."""
    rows = [
        {
            "scenario": b.scenario.slug,
            "cost_rm": b.current_cost,
            "limit_rm": b.budget_limit,
            "percentage": b.percentage_used,
            "forecast_rm": b.forecast_end_of_month,
            "status": b.status,
        }
        for b in BudgetAlert.objects.filter(alert_month=month).select_related("scenario").order_by("scenario__slug")
    ]
    conf = get_settings()
    total = month_spend_rm(month=month)
    return {
        "month": month,
        "total_rm": total,
        "total_usd": (total / _rm_per_usd()).quantize(TWO),
        "cap_usd": conf.budget_hard_cap_usd,
        "scenarios": rows,
    }
