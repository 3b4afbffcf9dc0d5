"""Export a scenario version as a ctfcli challenge: ``challenge.yml`` plus its files.

The file follows ctfcli's spec (the keys and order of ``ctfcli/spec/challenge-example.yml``) and
passes ``ctf challenge lint`` (name, author, category, description, attribution and value are
always written). What ctfcli has no key for goes under ``x-rangex`` (ctfcli ignores unknown keys),
and the machines go to a ``docker-compose.yml`` beside it, so importing the folder again gives the
same version (``apps.scenarios.challenge_yml`` reads both). Secrets are never exported.

A ctfcli challenge has one set of flags, so only a version with exactly one static flag question
can be exported; anything else is refused with the reason.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
from decimal import Decimal
from typing import Any

import yaml
from django.utils.translation import gettext as _

from apps.scenarios.challenge_yml import CONNECTION_LABEL, EXTRA_VERSION_FIELDS, KEPT_KEYS, connection_suffix
from apps.scenarios.compose import SERVICE_EXTRA_FIELDS, networks_of
from apps.scenarios.grading import question_flags
from apps.scenarios.models import ImageSourceType, Scenario, ScenarioVersion
from rangex.core.errors import ValidationFailed

CHALLENGE_FILE = "challenge.yml"
COMPOSE_FILE = "docker-compose.yml"
WRITEUP_FILE = "writeup/WRITEUP.md"
# Metadata keys that ctfcli keys carry; the rest of the metadata travels under x-rangex.
DERIVED_METADATA = ("ctfd", "topics", "requirements", "healthcheck")


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _question(version: ScenarioVersion) -> dict:
    questions = version.questions or []
    if len(questions) != 1:
        raise ValidationFailed(
            _(
                "%(version)s: a ctfcli challenge has one set of flags, and this version has %(count)s questions; "
                "export it as a RangeX bundle instead."
            )
            % {"version": version, "count": len(questions)}
        )
    question = questions[0]
    if question.get("type") != "flag" or question.get("dynamic"):
        what = "a per-session flag" if question.get("dynamic") else f"a {question.get('type')} question"
        raise ValidationFailed(
            _(
                "%(version)s: ctfcli knows static and regex flags only, and question %(get)s is %(what)s; "
                "export it as a RangeX bundle instead."
            )
            % {"version": version, "get": repr(question.get("id")), "what": what}
        )
    return question


def _flag(flag: dict) -> Any:
    if flag.get("type", "static") == "static" and not flag.get("case_insensitive"):
        return flag.get("content", "")
    out = {"type": flag.get("type", "static"), "content": flag.get("content", "")}
    if flag.get("case_insensitive"):
        out["data"] = "case_insensitive"
    return out


def _hints(version: ScenarioVersion) -> list[Any]:
    hints = version.hints or []
    required = {r for h in hints for r in h.get("requires") or []}
    out: list[Any] = []
    for i, hint in enumerate(hints):
        plain = not hint.get("cost") and not hint.get("title") and not hint.get("requires")
        if plain and hint.get("id") == f"h{i + 1}" and hint.get("id") not in required:
            out.append(hint.get("text", ""))
            continue
        row: dict[str, Any] = {"key": hint.get("id")}
        if hint.get("title"):
            row["title"] = hint["title"]
        row["content"] = hint.get("text", "")
        if hint.get("cost"):
            row["cost"] = hint["cost"]
        if hint.get("requires"):
            row["requirements"] = list(hint["requires"])
        out.append(row)
    return out


def _requirement_names(slugs: list[str]) -> list[str]:
    """Return the titles CTFd knows the required challenges by (the slug when there is no version)."""
    names = []
    for slug in slugs:
        scenario = Scenario.objects.filter(slug=slug).first()
        version = (
            scenario.versions.order_by("-published_at", "-version_number").first() if scenario is not None else None
        )
        names.append(version.title if version is not None else slug)
    return names


def _compose(version: ScenarioVersion, machines, pivots) -> dict[str, Any]:
    topology = version.network_topology if isinstance(version.network_topology, dict) else {}
    declared = topology.get("networks") if isinstance(topology.get("networks"), dict) else {}
    services: dict[str, Any] = {}
    groups: list[str] = []
    for machine in machines:
        service: dict[str, Any] = {}
        if machine.image_source_type == ImageSourceType.VARIANT and machine.image_variant_id:
            service["image"] = machine.image_variant.image_ref
        elif machine.image_source_type == ImageSourceType.PLATFORM and machine.platform_image_id:
            service["image"] = machine.platform_image.image_ref
        else:
            service["image"] = machine.image_ref
        networks = networks_of(machine, pivots)
        groups.extend(networks)
        service["networks"] = networks
        if machine.exposed_ports:
            service["expose"] = [f"{p.get('port')}/{p.get('protocol', 'tcp')}" for p in machine.exposed_ports]
        if machine.run_as_user:
            service["user"] = machine.run_as_user
        if machine.read_only_root:
            service["read_only"] = True
        if machine.entrypoints:
            service["command"] = [str(c) for c in machine.entrypoints]
        if machine.environment_vars:
            service["environment"] = {str(k): str(v) for k, v in machine.environment_vars.items()}
        if machine.capabilities:
            service["cap_add"] = list(machine.capabilities)
        extra = {name: _plain(getattr(machine, name)) for name in SERVICE_EXTRA_FIELDS}
        if machine.image_source_type == ImageSourceType.VARIANT and machine.image_variant_id:
            extra["variant"] = machine.image_variant.display_name
        elif machine.image_source_type == ImageSourceType.PLATFORM and machine.platform_image_id:
            extra["platform"] = machine.platform_image.label
        service["x-rangex"] = extra
        services[machine.name] = service
    return {
        "services": services,
        "networks": {
            g: {"internal": bool((declared.get(g) or {}).get("internal", True))} for g in dict.fromkeys(groups)
        },
        "x-rangex": {
            "pivot_points": [
                {"source": p.source_network_group, "target": p.target_network_group, "description": p.description}
                for p in pivots
            ]
        },
    }


def ctfcli_export(*, version: ScenarioVersion) -> dict[str, bytes]:
    """Return the files of a ctfcli challenge folder for ``version``: ``{relative path: bytes}``."""
    question = _question(version)
    metadata = version.metadata if isinstance(version.metadata, dict) else {}
    ctfd = metadata.get("ctfd") if isinstance(metadata.get("ctfd"), dict) else {}
    files: dict[str, bytes] = {}
    challenge: dict[str, Any] = {
        "name": version.title,
        "author": version.creator_name or "",
        "category": version.category,
    }
    mission = version.mission_text or ""
    connection_info = ctfd.get("connection_info")
    if connection_info and mission.endswith(connection_suffix(str(connection_info))):
        mission = mission[: -len(connection_suffix(str(connection_info)))]
    elif connection_info and CONNECTION_LABEL in mission:
        mission = mission.rsplit(f"\n\n{CONNECTION_LABEL}", 1)[0]
    challenge["description"] = mission
    challenge["attribution"] = ctfd.get("attribution", "")
    scoring = question.get("scoring")
    challenge["value"] = question.get("points", 0)
    challenge["type"] = ctfd.get("type") or ("dynamic" if scoring else "standard")
    if scoring:
        extra = {k: scoring.get(k) for k in ("initial", "decay", "minimum")}
        if scoring.get("function", "logarithmic") != "logarithmic":
            extra["function"] = scoring["function"]
        challenge["extra"] = extra
    machines = list(version.machines.select_related("image_variant", "platform_image").order_by("sort_order", "name"))
    pivots = list(version.pivot_points.order_by("id"))
    if len(machines) == 1 and machines[0].image_source_type == ImageSourceType.CUSTOM:
        challenge["image"] = machines[0].image_ref
    for key in ("protocol", "host", "connection_info"):
        if ctfd.get(key) not in (None, ""):
            challenge[key] = ctfd[key]
    if isinstance(metadata.get("healthcheck"), dict) and metadata["healthcheck"].get("script"):
        challenge["healthcheck"] = metadata["healthcheck"]["script"]
    if version.solution_writeup:
        files[WRITEUP_FILE] = version.solution_writeup.encode("utf-8")
        state = ctfd.get("solution_state")
        challenge["solution"] = {"path": WRITEUP_FILE, "state": state} if state else WRITEUP_FILE
    if question.get("max_attempts"):
        challenge["attempts"] = question["max_attempts"]
    if ctfd.get("logic"):
        challenge["logic"] = ctfd["logic"]
    challenge["flags"] = [_flag(f) for f in question_flags(question)]
    if metadata.get("topics"):
        challenge["topics"] = list(metadata["topics"])
    if version.tags:
        challenge["tags"] = list(version.tags)

    downloads, extra_assets = [], []
    used: set[str] = set()
    for i, asset in enumerate(version.assets.select_related("machine").order_by("id")):
        base = posixpath.basename(asset.file_name) or f"file-{i + 1}"
        plain = (
            asset.asset_type == "download"
            and not asset.description
            and asset.permissions in ("0644", "644")
            and asset.file_name == base
        )
        path = f"dist/{base}" if plain else f"assets/{i + 1:03d}/{base}"
        if path in used:
            path = f"dist/{i + 1:03d}/{base}"
        used.add(path)
        try:
            with asset.file.open("rb") as fh:
                files[path] = fh.read()
        except OSError:
            raise ValidationFailed(
                _("The file of the asset %(file_name)s is missing from storage.") % {"file_name": repr(asset.file_name)}
            ) from None
        if plain:
            downloads.append(path)
        else:
            row = {"file": path, "machine": asset.machine.name if asset.machine_id else None}
            row.update(
                {
                    name: _plain(getattr(asset, name))
                    for name in ("asset_type", "file_name", "target_path", "permissions", "description")
                }
            )
            extra_assets.append(row)
    if downloads:
        challenge["files"] = downloads
    hints = _hints(version)
    if hints:
        challenge["hints"] = hints
    requirements = metadata.get("requirements") if isinstance(metadata.get("requirements"), dict) else {}
    names = _requirement_names(list(requirements.get("prerequisites") or []))
    if requirements.get("anonymize"):
        challenge["requirements"] = {"prerequisites": names, "anonymize": True}
    elif names:
        challenge["requirements"] = names
    for key in ("next", "scheduled_at", "module"):
        if ctfd.get(key) not in (None, ""):
            challenge[key] = ctfd[key]
    if ctfd.get("state"):
        challenge["state"] = ctfd["state"]
    if ctfd.get("version"):
        challenge["version"] = ctfd["version"]
    unknown_ctfd = sorted(set(ctfd) - set(KEPT_KEYS) - {"state", "type", "solution_state"})
    rangex: dict[str, Any] = {name: _plain(getattr(version, name)) for name in EXTRA_VERSION_FIELDS}
    rest = {k: v for k, v in metadata.items() if k not in DERIVED_METADATA}
    if unknown_ctfd:
        rest["ctfd_extra"] = {k: ctfd[k] for k in unknown_ctfd}
    rangex["metadata"] = _plain(rest)
    rangex["question"] = {"id": question.get("id"), "prompt": question.get("prompt")}
    if extra_assets:
        rangex["assets"] = extra_assets
    if version.cover_image:
        cover = f"cover/{posixpath.basename(version.cover_image.name)}"
        with version.cover_image.open("rb") as fh:
            files[cover] = fh.read()
        rangex["cover_image"] = cover
    challenge["x-rangex"] = rangex
    if machines:
        files[COMPOSE_FILE] = yaml.safe_dump(
            _compose(version, machines, pivots), sort_keys=False, allow_unicode=True
        ).encode("utf-8")
    files[CHALLENGE_FILE] = yaml.safe_dump(_plain(challenge), sort_keys=False, allow_unicode=True).encode("utf-8")
    return files


def ctfcli_export_zip(*, version: ScenarioVersion, folder: str = "") -> bytes:
    """Return the ctfcli challenge of ``version`` as a zip (under ``folder`` when given)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path, content in ctfcli_export(version=version).items():
            archive.writestr(posixpath.join(folder, path) if folder else path, content)
    return out.getvalue()
