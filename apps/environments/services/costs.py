"""What a session costs per hour."""

from __future__ import annotations

import logging
from decimal import Decimal

from apps.environments.models import (
    EnvironmentMachine,
    EnvironmentSession,
)

logger = logging.getLogger(__name__)


def runtime_rates_rm(sessions: list[tuple[object, str]], *, rm_per_usd: Decimal) -> dict[object, Decimal]:
    """Return session pk -> hourly rate for the sessions whose backend prices machines itself (Fargate).

    ``sessions`` holds (pk, runtime key) pairs; sessions on a backend without its own prices (or no
    longer configured) are left out, and the profile rates apply to them.
    """
    from apps.environments.launch import machine_resources
    from apps.runtime import RuntimeFailure, get_runtime

    priced: dict[str, object] = {}
    for key in {key for _, key in sessions}:
        try:
            runtime = get_runtime(key or None)
        except RuntimeFailure:
            continue
        if runtime.hourly_price_usd(cpus=0.25, memory_mb=512) is not None:
            priced[key] = runtime
    wanted = [pk for pk, key in sessions if key in priced]
    if not wanted:
        return {}
    keys = dict(sessions)
    # What a session costs beyond its machines (its terminal gateway on ECS), once per session.
    overhead = {key: (rt.session_hourly_price_usd() or Decimal("0")) * rm_per_usd for key, rt in priced.items()}
    rates: dict[object, Decimal] = {pk: overhead[keys[pk]] for pk in wanted}
    rows = EnvironmentMachine.objects.filter(environment_session_id__in=wanted).select_related("machine")
    for row in rows:
        cpus, memory_mb = machine_resources(row.machine) if row.machine is not None else (0.5, 512)
        usd = priced[keys[row.environment_session_id]].hourly_price_usd(cpus=cpus, memory_mb=memory_mb)
        rates[row.environment_session_id] += usd * rm_per_usd
    return rates


def cost_rate_rm(session: EnvironmentSession) -> Decimal:
    """Return the hourly cost of a session: Fargate's price on ECS, else its machines' variant or profile costs."""
    from django.conf import settings

    from apps.images.profiles import profile_limits

    rm_per_usd = Decimal(str(getattr(settings, "RANGEX_RM_PER_USD", "4.70")))
    priced = runtime_rates_rm([(session.pk, session.runtime_backend)], rm_per_usd=rm_per_usd)
    if session.pk in priced:
        return priced[session.pk]

    total = Decimal("0")
    for row in session.machines.select_related("machine__image_variant"):
        machine = row.machine
        if machine is not None and machine.image_variant_id:
            total += machine.image_variant.hourly_cost_rm
        else:
            total += profile_limits(machine.resource_profile if machine else "small").hourly_cost_rm
    return total
