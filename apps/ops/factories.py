"""Factories for operations: scenario budgets (through the budget service) and health check rows."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils import timezone

from apps.accounts.factories import AdminFactory
from apps.ops.models import BudgetAlert, HealthCheck
from apps.ops.services import budget_alert_save


def budget(*, scenario, limit: str = "10", actor=None, **fields: Any) -> BudgetAlert:
    """Return this month's budget for ``scenario``, saved as an admin saves one."""
    row = BudgetAlert(scenario=scenario, alert_month=timezone.now().date(), budget_limit=Decimal(limit), **fields)
    return budget_alert_save(actor=actor or AdminFactory(), budget=row)


def health_check(**fields: Any) -> HealthCheck:
    """Return a health check row as the beat task records one (the task writes them directly)."""
    values = {"check_type": "engine", "service_name": "docker", "status": "ok", "checked_at": timezone.now(), **fields}
    return HealthCheck.objects.create(**values)
