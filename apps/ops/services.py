"""State changes of operations' admin-edited configuration: scenario budgets and interface endpoints."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from apps.ops.models import BudgetAlert
from rangex.core.audit import AuditAction, audit_record, full_clean_or_raise
from rangex.core.errors import ValidationFailed

# --- Budgets and endpoints (admin-edited configuration) ------------------------------------------

BUDGET_CONFIG_FIELDS = ("budget_limit", "alert_percentage", "grace_period_hours", "auto_shutdown_enabled")


@transaction.atomic
def budget_alert_save(*, actor, budget, changed: list[str] | None = None):
    """Create or change a scenario's monthly budget; the month is normalised to its first day."""
    if budget.alert_month:
        budget.alert_month = budget.alert_month.replace(day=1)
    full_clean_or_raise(budget, validate_constraints=False)
    duplicate = BudgetAlert.objects.filter(scenario_id=budget.scenario_id, alert_month=budget.alert_month)
    if budget.pk:
        duplicate = duplicate.exclude(pk=budget.pk)
    if duplicate.exists():
        raise ValidationFailed(
            _("This scenario already has a budget for that month."), fields={"alert_month": [_("Already budgeted.")]}
        )
    created = budget.pk is None
    if created:
        budget.save()
    else:
        fields = [f for f in (changed or BUDGET_CONFIG_FIELDS) if f in (*BUDGET_CONFIG_FIELDS, "alert_month")]
        budget.save(update_fields=fields or list(BUDGET_CONFIG_FIELDS))
    audit_record(
        actor=actor,
        action=AuditAction.BUDGET_CREATE if created else AuditAction.BUDGET_UPDATE,
        target=budget,
        details={name: getattr(budget, name) for name in BUDGET_CONFIG_FIELDS},
    )
    return budget


@transaction.atomic
def interface_endpoint_save(*, actor, endpoint):
    created = endpoint.pk is None
    full_clean_or_raise(endpoint)
    endpoint.save()
    audit_record(
        actor=actor,
        action=AuditAction.INTERFACE_ENDPOINT_CREATE if created else AuditAction.INTERFACE_ENDPOINT_UPDATE,
        target=endpoint,
        details={"label": endpoint.label, "type": endpoint.type, "value": endpoint.value},
    )
    return endpoint


@transaction.atomic
def interface_endpoint_delete(*, actor, endpoint) -> None:
    audit_record(
        actor=actor, action=AuditAction.INTERFACE_ENDPOINT_DELETE, target=endpoint, details={"label": endpoint.label}
    )
    endpoint.delete()
