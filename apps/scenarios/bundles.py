"""RangeX scenario bundles: export a version as a zip, and read a bundle's manifest into an import plan.

A RangeX bundle is a zip with a ``scenario.yaml`` manifest at its root and the version's files
under ``assets/`` (and its cover under ``cover/``). Secrets (machine SSH passwords, registry
credentials) are never exported; the manifest lists what was left out under ``omitted_secrets``.
Reading the upload safely is ``apps.scenarios.bundle_io``; writing a plan is ``apps.scenarios.imports``.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
from decimal import Decimal, InvalidOperation
from typing import Any

import yaml
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from apps.images.models import ImageVariant, PlatformImage
from apps.scenarios.bundle_io import MANIFEST_NAME, ImportPlan, PlannedFile, YamlDoc, safe_relative
from apps.scenarios.image_builds import context_from_bundle, read_context_tar
from apps.scenarios.models import (
    AdminTestValidation,
    ImageSourceType,
    Machine,
    NetworkPivotPoint,
    Scenario,
    ScenarioAsset,
    ScenarioVersion,
    Tool,
)
from apps.scenarios.testing import RULE_FIELDS, rule_content, rule_problems, version_rules
from rangex.core.errors import ValidationFailed

BUNDLE_FORMAT = "rangex-scenario-bundle"
BUNDLE_FORMAT_VERSION = 1

# The manifest's ``version:`` section: the version's content (ScenarioVersion.CONTENT_FIELDS), minus
# the questions and hints (top-level lists of the manifest) and the cover (a file in the zip).
VERSION_FIELDS = tuple(f for f in ScenarioVersion.CONTENT_FIELDS if f not in ("questions", "hints", "cover_image"))
# Machine columns copied as they are; the image, the secrets and build outputs are handled apart.
MACHINE_FIELDS = (
    "name",
    "role",
    "network_group",
    "resource_profile",
    "allow_solver_entry",
    "is_pivot_host",
    "cpu_cores",
    "memory_mb",
    "disk_gb",
    "exposed_ports",
    "ssh_enabled",
    "rdp_enabled",
    "web_enabled",
    "environment_vars",
    "entrypoints",
    "ready_check",
    "run_as_user",
    "read_only_root",
    "capabilities",
    "ssh_username",
    "network_egress_policy",
    "sort_order",
)
ASSET_FIELDS = ("asset_type", "file_name", "target_path", "permissions", "description")


# --- Export -------------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, str):
        # Choices enums are str subclasses that YAML's safe dumper refuses.
        return str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _machine_image(machine: Machine) -> dict[str, str]:
    if machine.image_source_type == ImageSourceType.VARIANT and machine.image_variant_id:
        return {"variant": machine.image_variant.display_name, "image_ref": machine.image_variant.image_ref}
    if machine.image_source_type == ImageSourceType.PLATFORM and machine.platform_image_id:
        return {"platform": machine.platform_image.label, "image_ref": machine.platform_image.image_ref}
    return {"ref": machine.image_ref}


def bundle_export(*, version: ScenarioVersion) -> bytes:
    """Return a zip with the version's manifest, its files and its cover. Secrets are left out."""
    machines = list(version.machines.select_related("image_variant", "platform_image").order_by("sort_order", "name"))
    omitted: list[str] = []
    machine_rows = []
    files: dict[str, bytes] = {}
    for i, machine in enumerate(machines):
        row = {"image": _machine_image(machine)}
        row.update({name: _plain(getattr(machine, name)) for name in MACHINE_FIELDS})
        _export_build(machine, row, files)
        machine_rows.append(row)
        if machine.ssh_password:
            omitted.append(f"machines[{i}].ssh_password")
        if machine.registry_credential_id:
            omitted.append(f"machines[{i}].registry_credential")
    asset_rows = []
    for i, asset in enumerate(version.assets.select_related("machine").order_by("id")):
        base = posixpath.basename(asset.file_name) or f"file-{i}"
        path = f"assets/{i + 1:03d}/{base}"
        try:
            with asset.file.open("rb") as fh:
                files[path] = fh.read()
        except OSError:
            raise ValidationFailed(
                _("The file of the asset %(file_name)s is missing from storage.") % {"file_name": repr(asset.file_name)}
            ) from None
        row = {"file": path, "machine": asset.machine.name if asset.machine_id else None}
        row.update({name: _plain(getattr(asset, name)) for name in ASSET_FIELDS})
        asset_rows.append(row)
    cover = None
    if version.cover_image:
        cover = f"cover/{posixpath.basename(version.cover_image.name)}"
        with version.cover_image.open("rb") as fh:
            files[cover] = fh.read()
    manifest = {
        "format": BUNDLE_FORMAT,
        "format_version": BUNDLE_FORMAT_VERSION,
        "scenario": {"slug": version.scenario.slug},
        "source_version_number": version.version_number,
        "version": {name: _plain(getattr(version, name)) for name in VERSION_FIELDS} | {"cover_image": cover},
        "questions": _plain(version.questions),
        "hints": _plain(version.hints),
        "machines": machine_rows,
        "pivot_points": [
            {"source": p.source_network_group, "target": p.target_network_group, "description": p.description}
            for p in version.pivot_points.order_by("id")
        ],
        "assets": asset_rows,
        "validation_rules": [_plain(rule_content(r)) for r in version_rules(version)],
        "omitted_secrets": omitted,
    }
    if omitted:
        manifest["omitted_secrets_note"] = (
            "Passwords and registry credentials are never exported; set them again after importing."
        )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(MANIFEST_NAME, yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True))
        for path, content in files.items():
            archive.writestr(path, content)
    return out.getvalue()


def _export_build(machine: Machine, row: dict, files: dict[str, bytes]) -> None:
    """Add a machine's build context (as a folder of the bundle) and its tools to its manifest row."""
    tools = sorted(machine.tools.values_list("name", flat=True))
    if tools:
        row["tools"] = tools
    if machine.build_context:
        with machine.build_context.open("rb") as fh:
            context = read_context_tar(fh.read(), where=f"machine {machine.name}")
        folder = f"build/{machine.name}"
        files.update({f"{folder}/{name}": content for name, content in context.items()})
        row["build"] = folder


# --- Import: the plan ---------------------------------------------------------------------------


def _plan_build(doc: YamlDoc, machine: Machine, row: dict, files: dict[str, bytes], at: str, *, base: str) -> None:
    """Read a machine's ``build:`` folder (checked like the bundle itself) and its ``tools:`` names."""
    folder = row.get("build")
    if folder is not None:
        full = f"{base}/{folder}" if base and isinstance(folder, str) else folder
        try:
            machine.planned_build_files = context_from_bundle(files, full, where=f"{doc.filename}, {at}.build")
        except ValidationFailed as exc:
            doc.add(f"{at}.build", exc.message)
    names = row.get("tools")
    if names is not None:
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            doc.add(f"{at}.tools", _("Give the tools as a list of names from the catalogue."))
            return
        tools = {t.name: t for t in Tool.objects.filter(name__in=names, is_active=True)}
        missing = [n for n in names if n not in tools]
        if missing:
            doc.add(
                f"{at}.tools",
                _("No active tool of the catalogue is named %(items)s.") % {"items": ", ".join(map(repr, missing))},
            )
        machine.planned_tools = [tools[n] for n in names if n in tools]


def _clean_model(doc: YamlDoc, instance, prefix: str, *, exclude: list[str], rename: dict[str, str] | None = None):
    try:
        instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            key = (rename or {}).get(field, field)
            path = prefix if field == "__all__" else f"{prefix}.{key}"
            for message in messages:
                doc.add(path, message)


def _resolve_image(doc: YamlDoc, machine: Machine, image: Any, at: str) -> None:
    if not isinstance(image, dict):
        doc.add(at, _("Give the image as {variant: name}, {platform: label} or {ref: registry/name:tag}."))
        return
    if "variant" in image:
        candidates = list(ImageVariant.objects.filter(display_name=image["variant"]))
        if len(candidates) > 1 and image.get("image_ref"):
            candidates = [c for c in candidates if c.image_ref == image["image_ref"]] or candidates
        if not candidates:
            doc.add(
                f"{at}.variant",
                _("No image variant named %(variant)s exists on this platform.") % {"variant": repr(image["variant"])},
            )
            return
        machine.image_source_type = ImageSourceType.VARIANT
        machine.image_variant = candidates[0]
    elif "platform" in image:
        candidates = list(PlatformImage.objects.filter(label=image["platform"]))
        if len(candidates) > 1 and image.get("image_ref"):
            candidates = [c for c in candidates if c.image_ref == image["image_ref"]] or candidates
        if not candidates:
            doc.add(
                f"{at}.platform",
                _("No platform image labelled %(platform)s exists on this platform.")
                % {"platform": repr(image["platform"])},
            )
            return
        machine.image_source_type = ImageSourceType.PLATFORM
        machine.platform_image = candidates[0]
    elif isinstance(image.get("ref"), str) and image["ref"].strip():
        machine.image_source_type = ImageSourceType.CUSTOM
        machine.image_ref = image["ref"].strip()
    else:
        doc.add(at, _("Give the image as {variant: name}, {platform: label} or {ref: registry/name:tag}."))


def _check_target_path(doc: YamlDoc, value: Any, at: str) -> None:
    if value and (not isinstance(value, str) or not value.startswith("/") or ".." in value.split("/")):
        doc.add(at, _("Give an absolute path inside the machine, without '..'."))


def plan_rangex_manifest(doc: YamlDoc, files: dict[str, bytes], *, base: str = "") -> ImportPlan:
    """Check a RangeX manifest and the files it names; return what to create."""
    data = doc.data
    if not isinstance(data, dict):
        doc.add("", _("The manifest must be a mapping."))
        doc.raise_if_errors()
    if data.get("format") != BUNDLE_FORMAT:
        doc.add(
            "format", _("A RangeX bundle manifest says format: %(BUNDLE_FORMAT)s.") % {"BUNDLE_FORMAT": BUNDLE_FORMAT}
        )
    if data.get("format_version") != BUNDLE_FORMAT_VERSION:
        doc.add(
            "format_version",
            _("This platform reads bundle format version %(BUNDLE_FORMAT_VERSION)s.")
            % {"BUNDLE_FORMAT_VERSION": BUNDLE_FORMAT_VERSION},
        )
    scenario = data.get("scenario")
    slug = scenario.get("slug") if isinstance(scenario, dict) else None
    if not isinstance(slug, str) or not slug.strip():
        doc.add("scenario.slug", _("Give the scenario's slug."))
        slug = ""
    version_data = data.get("version")
    if not isinstance(version_data, dict):
        doc.add("version", _("Give the version's fields as a mapping."))
        version_data = {}
    unknown = sorted(set(version_data) - set(VERSION_FIELDS) - {"cover_image"}, key=str)
    for name in unknown:
        doc.add(f"version.{name}", _("This field is not known."))
    version_fields = {name: version_data[name] for name in VERSION_FIELDS if name in version_data}
    for name in ("questions", "hints"):
        value = data.get(name, [])
        if not isinstance(value, list):
            doc.add(name, _("%(capitalize)s must be a list.") % {"capitalize": name.capitalize()})
            value = []
        version_fields[name] = value
    probe = ScenarioVersion(**{k: v for k, v in version_fields.items() if v is not None or k in _NULLABLE})
    _clean_model(doc, probe, "version", exclude=["scenario", "version_number", "cover_image"])
    slug_probe = Scenario(slug=slug)
    _clean_model(doc, slug_probe, "scenario", exclude=["created_by_user"])

    cover = None
    cover_path = version_data.get("cover_image")
    if cover_path:
        cover = _planned_file(doc, files, cover_path, "version.cover_image", base=base)

    machines: list[Machine] = []
    raw_machines = data.get("machines", [])
    if not isinstance(raw_machines, list):
        doc.add("machines", _("Machines must be a list."))
        raw_machines = []
    names: set[str] = set()
    for i, row in enumerate(raw_machines):
        at = f"machines[{i}]"
        if not isinstance(row, dict):
            doc.add(at, _("Each machine must be a mapping."))
            continue
        for name in sorted(set(row) - set(MACHINE_FIELDS) - {"image", "build", "tools"}, key=str):
            doc.add(f"{at}.{name}", _("This field is not known (secrets are never imported)."))
        fields = {name: row[name] for name in MACHINE_FIELDS if name in row}
        if fields.get("cpu_cores") is not None:
            try:
                fields["cpu_cores"] = Decimal(str(fields["cpu_cores"]))
            except InvalidOperation:
                doc.add(f"{at}.cpu_cores", _("Give a number of CPU cores."))
                fields.pop("cpu_cores")
        machine = Machine(**fields)
        _resolve_image(doc, machine, row.get("image"), f"{at}.image")
        _plan_build(doc, machine, row, files, at, base=base)
        _clean_model(doc, machine, at, exclude=["scenario_version", "image_variant", "platform_image"])
        if machine.name in names:
            doc.add(f"{at}.name", _("Another machine is already named %(name)s.") % {"name": repr(machine.name)})
        names.add(machine.name)
        machines.append(machine)

    pivots = []
    raw_pivots = data.get("pivot_points", [])
    for i, row in enumerate(raw_pivots if isinstance(raw_pivots, list) else []):
        at = f"pivot_points[{i}]"
        if not isinstance(row, dict):
            doc.add(at, _("Each pivot point must be a mapping."))
            continue
        pivot = NetworkPivotPoint(
            source_network_group=row.get("source") or "",
            target_network_group=row.get("target") or "",
            description=row.get("description") or "",
        )
        _clean_model(
            doc,
            pivot,
            at,
            exclude=["scenario_version"],
            rename={"source_network_group": "source", "target_network_group": "target"},
        )
        pivots.append(pivot)

    assets = []
    raw_assets = data.get("assets", [])
    for i, row in enumerate(raw_assets if isinstance(raw_assets, list) else []):
        at = f"assets[{i}]"
        if not isinstance(row, dict):
            doc.add(at, _("Each asset must be a mapping."))
            continue
        planned = _planned_file(doc, files, row.get("file"), f"{at}.file", base=base)
        machine_name = row.get("machine")
        if machine_name is not None and (not isinstance(machine_name, str) or machine_name not in names):
            doc.add(
                f"{at}.machine",
                _("No machine named %(machine_name)s is in this bundle.") % {"machine_name": repr(machine_name)},
            )
        fields = {name: row[name] for name in ASSET_FIELDS if row.get(name) is not None}
        if planned and not fields.get("file_name"):
            fields["file_name"] = posixpath.basename(planned.path)
        asset = ScenarioAsset(**fields)
        _check_target_path(doc, asset.target_path, f"{at}.target_path")
        _clean_model(doc, asset, at, exclude=["scenario_version", "machine", "file"])
        if planned:
            assets.append((asset, machine_name, planned))
    rules = _plan_rules(doc, data.get("validation_rules", []), names, version_fields.get("questions") or [])
    doc.raise_if_errors()
    return ImportPlan(
        slug=slug,
        version_fields=version_fields,
        machines=machines,
        pivot_points=pivots,
        assets=assets,
        cover=cover,
        source_format="rangex",
        source_file=doc.filename,
        name=str(version_fields.get("title") or ""),
        slug_is_identity=True,
        rules=rules,
    )


def _plan_rules(doc: YamlDoc, raw: Any, machines: set[str], questions: list[Any]) -> list[AdminTestValidation]:
    """Check the manifest's ``validation_rules``; each names machines and questions of this bundle."""
    if not isinstance(raw, list):
        doc.add("validation_rules", _("Validation rules must be a list."))
        return []
    question_ids = {str(q.get("id")) for q in questions if isinstance(q, dict)}
    rules = []
    for i, row in enumerate(raw):
        at = f"validation_rules[{i}]"
        if not isinstance(row, dict):
            doc.add(at, _("Each validation rule must be a mapping."))
            continue
        for name in sorted(set(row) - set(RULE_FIELDS), key=str):
            doc.add(f"{at}.{name}", _("This field is not known."))
        rule = AdminTestValidation(position=i, **{k: row[k] for k in RULE_FIELDS if row.get(k) is not None})
        for name, messages in rule_problems(rule, machines=machines, questions=question_ids).items():
            for message in messages:
                doc.add(f"{at}.{name}", message)
        _clean_model(doc, rule, at, exclude=["scenario_version", "admin_test", "status"])
        rules.append(rule)
    return rules


_NULLABLE = {"creator_name", "code_of_ethics", "learning_outcomes", "network_topology", "docker_compose_path"}


def _planned_file(doc: YamlDoc, files: dict[str, bytes], path: Any, at: str, *, base: str = "") -> PlannedFile | None:
    safe = safe_relative(path) if isinstance(path, str) else None
    if safe is None:
        doc.add(at, _("Give a relative path inside the bundle, without '..'."))
        return None
    full = f"{base}/{safe}" if base else safe
    if full not in files:
        doc.add(at, _("The file %(full)s is not in the bundle.") % {"full": repr(full)})
        return None
    return PlannedFile(path=full, content=files[full])
