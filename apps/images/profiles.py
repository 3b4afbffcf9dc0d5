"""Resource profiles: the CPU, memory and process limits of a lab machine, and what an hour costs.

One table, read by scenario validation, the runtime (limits) and cost accrual (money).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _


class ResourceProfile(models.TextChoices):
    MICRO = "micro", _("Micro (0.25 vCPU, 256 MB)")
    SMALL = "small", _("Small (0.5 vCPU, 512 MB)")
    MEDIUM = "medium", _("Medium (1 vCPU, 1 GB)")
    LARGE = "large", _("Large (2 vCPU, 2 GB)")


@dataclass(frozen=True)
class ProfileLimits:
    cpus: Decimal
    memory_mb: int
    pids_limit: int
    hourly_cost_rm: Decimal
    vcpu_share_rm: Decimal
    memory_share_rm: Decimal


# Hourly costs follow Fargate's per-vCPU and per-GB rates in RM, rounded; the split into vCPU and
# memory shares is what the daily usage rollup reports.
PROFILES: dict[str, ProfileLimits] = {
    ResourceProfile.MICRO: ProfileLimits(Decimal("0.25"), 256, 128, Decimal("0.06"), Decimal("0.05"), Decimal("0.01")),
    ResourceProfile.SMALL: ProfileLimits(Decimal("0.50"), 512, 256, Decimal("0.12"), Decimal("0.10"), Decimal("0.02")),
    ResourceProfile.MEDIUM: ProfileLimits(
        Decimal("1.00"), 1024, 512, Decimal("0.24"), Decimal("0.19"), Decimal("0.05")
    ),
    ResourceProfile.LARGE: ProfileLimits(
        Decimal("2.00"), 2048, 1024, Decimal("0.48"), Decimal("0.38"), Decimal("0.10")
    ),
}


def profile_limits(name: str) -> ProfileLimits:
    return PROFILES.get(name, PROFILES[ResourceProfile.SMALL])
