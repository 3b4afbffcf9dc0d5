"""What a session costs per hour."""

from __future__ import annotations

import logging
from decimal import Decimal

from apps.environments.models import (
    EnvironmentSession,
)

logger = logging.getLogger(__name__)


def cost_rate_rm(session: EnvironmentSession) -> Decimal:
    """Return the hourly cost of a session: the sum of its machines' variant or profile costs."""
    from apps.images.profiles import profile_limits

    total = Decimal("0")
    for row in session.machines.select_related("machine__image_variant"):
        machine = row.machine
        if machine is not None and machine.image_variant_id:
            total += machine.image_variant.hourly_cost_rm
        else:
            total += profile_limits(machine.resource_profile if machine else "small").hourly_cost_rm
    return total
