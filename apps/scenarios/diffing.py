"""A version as stable text, for the reviewer's line diff against the previous version.

Long texts (the mission, writeups) are written out line by line, as the creator typed them, so a
changed sentence shows as one changed line rather than one escaped line for the whole text.
"""

from __future__ import annotations

import json

from apps.scenarios.models import ScenarioVersion

# Free texts a creator writes over several lines (mostly Markdown): compared line by line.
TEXT_FIELDS = ("mission_text", "solution_writeup", "solver_writeup", "code_of_ethics", "learning_outcomes")


def diff_class(line: str) -> str:
    if line.startswith(("+++", "---")):
        return "file"
    if line.startswith("@@"):
        return "hunk"
    if line.startswith("+"):
        return "add"
    if line.startswith("-"):
        return "del"
    return ""


def version_as_text(version: ScenarioVersion) -> str:
    """Render a version's content as stable text for a line diff: fields, questions, hints, machines."""
    out = []
    for name in ScenarioVersion.CONTENT_FIELDS:
        if name in ("questions", "hints"):
            continue
        value = getattr(version, name)
        if name in TEXT_FIELDS:
            out.append(f"{name}:")
            out.extend("  " + line for line in (value or "").replace("\r\n", "\n").replace("\r", "\n").split("\n"))
            continue
        if name == "cover_image":
            value = value.name if value else ""
        out.append(f"{name}: {json.dumps(value, ensure_ascii=False, default=str)}")
    out.append("questions:")
    out.extend("  " + line for line in json.dumps(version.questions, indent=2, sort_keys=True).splitlines())
    out.append("hints:")
    out.extend("  " + line for line in json.dumps(version.hints, indent=2, sort_keys=True).splitlines())
    skip = {"id", "scenario_version", "created_at", "updated_at", "ssh_password"}
    for machine in version.machines.select_related("image_variant", "platform_image", "registry_credential"):
        out.append(f"machine {machine.name}:")
        for field in machine._meta.concrete_fields:
            if field.name in skip:
                continue
            value = getattr(machine, field.name)
            out.append(f"  {field.name}: {json.dumps(value if not hasattr(value, 'pk') else str(value), default=str)}")
        out.append(f"  ssh_password: {'(set)' if machine.ssh_password else '(none)'}")
    for point in version.pivot_points.all():
        out.append(f"pivot: {point.source_network_group} <-> {point.target_network_group} {point.description}")
    for asset in version.assets.select_related("machine"):
        machine = asset.machine.name if asset.machine else "-"
        out.append(
            f"asset: {asset.file_name} [{asset.asset_type}] machine={machine} "
            f"target={asset.target_path} sha256={asset.sha256}"
        )
    return "\n".join(out)
