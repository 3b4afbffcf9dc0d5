"""Which runtime a scenario's labs start on: the platform default, or a key an admin chose (ECS)."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from apps.runtime import RuntimeNotConfigured, configured_runtimes, default_runtime_key
from apps.scenarios.models import Scenario
from rangex.core.audit import AuditAction, audit_record
from rangex.core.errors import PermissionDenied, ValidationFailed


def scenario_runtime_key(scenario_id) -> str:
    """Return the runtime key new sessions of the scenario record (read now: an admin may just have changed it)."""
    key = Scenario.objects.filter(pk=scenario_id).values_list("runtime_key", flat=True).first()
    return key or default_runtime_key()


@transaction.atomic
def scenario_runtime_set(*, scenario: Scenario, key: str, actor) -> Scenario:
    """Run the scenario's new labs on runtime ``key`` ("" for the platform default); running labs stay."""
    if not getattr(actor, "is_platform_admin", False):
        raise PermissionDenied(_("Only platform admins choose where a scenario's labs run."))
    try:
        keys = configured_runtimes()
    except RuntimeNotConfigured as exc:
        raise ValidationFailed(exc.message, fields={"runtime_key": [exc.message]}) from exc
    if key and key not in keys:
        message = _("Runtime %(key)s is not configured here (configured: %(items)s).") % {
            "key": repr(key),
            "items": ", ".join(keys),
        }
        raise ValidationFailed(message, fields={"runtime_key": [message]})
    locked = Scenario.objects.select_for_update().get(pk=scenario.pk)
    old = locked.runtime_key
    if old == key:
        return locked
    locked.runtime_key = key
    locked.save(update_fields=["runtime_key", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.SCENARIO_RUNTIME_SET,
        target=locked,
        details={"old": old or "(default)", "new": key or "(default)"},
    )
    return locked
