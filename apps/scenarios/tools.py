"""The tools catalogue (admins curate it) and the tools a machine picks, installed when its image is built."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from apps.scenarios.image_builds import tool_usage_refresh
from apps.scenarios.models import Machine, Tool
from rangex.core.audit import AuditAction, model_delete_audited, model_save_audited
from rangex.core.errors import PermissionDenied, ValidationFailed


@transaction.atomic
def tool_save(*, actor, tool: Tool, changed=()) -> Tool:
    if not getattr(actor, "is_platform_admin", False):
        raise PermissionDenied(_("Only admins curate the tools catalogue."))
    return model_save_audited(
        instance=tool, actor=actor, create_action=AuditAction.TOOL_CREATE, update_action=AuditAction.TOOL_UPDATE,
        changed=changed,
    )  # fmt: skip


@transaction.atomic
def tool_delete(*, actor, tool: Tool) -> None:
    if not getattr(actor, "is_platform_admin", False):
        raise PermissionDenied(_("Only admins curate the tools catalogue."))
    model_delete_audited(instance=tool, actor=actor, action=AuditAction.TOOL_DELETE)


def machine_tools_set(*, machine: Machine, tools: list[Tool], actor) -> Machine:
    """Pick the catalogue tools of a machine of a DRAFT version; recount every tool's usage."""
    inactive = [t.name for t in tools if not t.is_active]
    if inactive:
        raise ValidationFailed(
            _("These tools are switched off in the catalogue: %(items)s.") % {"items": ", ".join(inactive)},
            fields={"tools": [_("Pick active tools only.")]},
        )
    with transaction.atomic():
        # The component service checks ownership and that the version is still a DRAFT, and audits.
        from apps.scenarios.services import scenario_version_component_save

        machine = scenario_version_component_save(version=machine.scenario_version, actor=actor, obj=machine)
        machine.tools.set(tools)
        tool_usage_refresh()
    return machine
