"""Scenario bundles: export a version as a zip, import a zip (or CTFd ``challenge.yml`` files) as a new draft.

A RangeX bundle is a zip with a ``scenario.yaml`` manifest at its root and the version's files
under ``assets/`` (and its cover under ``cover/``). Secrets (machine SSH passwords, registry
credentials) are never exported; the manifest lists what was left out under ``omitted_secrets``.

Reading is defensive: entries with absolute paths, ``..`` or symlinks are refused, and the number
of entries, the total uncompressed size and each entry's compression ratio are capped while the
bytes are read (the sizes in the zip headers are not trusted). Manifest errors name the file, the
line and the field.
"""

from __future__ import annotations

import hashlib
import io
import logging
import math
import os
import posixpath
import stat
import tempfile
import zipfile
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Max

from apps.images.models import ImageVariant, PlatformImage
from apps.ops.services import audit_record, full_clean_or_raise
from apps.scenarios.models import (
    ImageSourceType,
    Machine,
    NetworkPivotPoint,
    Scenario,
    ScenarioAsset,
    ScenarioVersion,
    VersionStatus,
)
from apps.scenarios.services import asset_check
from rangex.core.errors import ApplicationError, Conflict, PermissionDenied, ValidationFailed

logger = logging.getLogger(__name__)

MANIFEST_NAME = "scenario.yaml"
BUNDLE_FORMAT = "rangex-scenario-bundle"
BUNDLE_FORMAT_VERSION = 1

# The content of a version; workflow stamps (status, review dates, reviewers) are not content.
VERSION_FIELDS = (
    "title",
    "short_description",
    "difficulty",
    "category",
    "tags",
    "estimated_minutes",
    "scenario_type",
    "creator_name",
    "requires_machines",
    "code_of_ethics",
    "learning_outcomes",
    "validation_mode",
    "scoring_mode",
    "hint_mode",
    "mission_text",
    "metadata",
    "solution_writeup",
    "network_topology",
    "docker_compose_path",
)
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
    "ssh_username",
    "network_egress_policy",
    "sort_order",
)
ASSET_FIELDS = ("asset_type", "file_name", "target_path", "permissions", "description")


@dataclass(frozen=True)
class BundleLimits:
    """Caps applied while reading an upload."""

    max_upload_bytes: int = 200 * 1024 * 1024
    max_entries: int = 500
    max_total_bytes: int = 200 * 1024 * 1024
    max_ratio: int = 100
    max_manifest_bytes: int = 1024 * 1024


DEFAULT_LIMITS = BundleLimits()


# --- Reading files safely -----------------------------------------------------------------------


def _safe_relative(name: str) -> str | None:
    """Return ``name`` normalised when it is a safe relative path, else None."""
    if not name or "\\" in name or "\x00" in name or name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return None
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if not parts or ".." in parts:
        return None
    return "/".join(parts)


def read_zip(data: bytes | Any, *, filename: str, limits: BundleLimits = DEFAULT_LIMITS) -> dict[str, bytes]:
    """Return the files of a zip as ``{path: bytes}``, refusing anything unsafe."""
    stream = io.BytesIO(data) if isinstance(data, bytes | bytearray) else data
    try:
        archive = zipfile.ZipFile(stream)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise ValidationFailed(f"{filename} is not a valid zip file.") from None
    with archive:
        infos = archive.infolist()
        if len(infos) > limits.max_entries:
            raise ValidationFailed(f"{filename} has {len(infos)} entries; at most {limits.max_entries} are allowed.")
        files: dict[str, bytes] = {}
        total = 0
        for info in infos:
            name = info.filename
            safe = _safe_relative(name.rstrip("/") if info.is_dir() else name)
            if safe is None:
                raise ValidationFailed(f"{filename}: the entry {name!r} has an absolute path or '..'; refused.")
            if stat.S_ISLNK(info.external_attr >> 16):
                raise ValidationFailed(f"{filename}: the entry {name!r} is a symbolic link; refused.")
            if info.is_dir():
                continue
            if info.flag_bits & 0x1:
                raise ValidationFailed(f"{filename}: the entry {name!r} is encrypted; refused.")
            if safe in files:
                raise ValidationFailed(f"{filename}: the entry {name!r} appears twice.")
            chunks = []
            size = 0
            try:
                with archive.open(info) as fh:
                    while chunk := fh.read(64 * 1024):
                        size += len(chunk)
                        total += len(chunk)
                        if total > limits.max_total_bytes:
                            megabytes = limits.max_total_bytes // (1024 * 1024)
                            raise ValidationFailed(f"{filename} unpacks to more than {megabytes} MB; refused.")
                        if size > 1024 * 1024 and size > limits.max_ratio * max(info.compress_size, 1):
                            raise ValidationFailed(
                                f"{filename}: the entry {name!r} is compressed more than {limits.max_ratio}:1 "
                                "(a decompression bomb?); refused."
                            )
                        chunks.append(chunk)
            except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError) as exc:
                raise ValidationFailed(f"{filename}: the entry {name!r} cannot be read ({exc}).") from None
            files[safe] = b"".join(chunks)
    return files


def read_folder(path: Path, *, limits: BundleLimits = DEFAULT_LIMITS) -> dict[str, bytes]:
    """Return the files under ``path`` as ``{relative path: bytes}``; symlinks are refused."""
    files: dict[str, bytes] = {}
    total = 0
    for root, dirs, names in os.walk(path, followlinks=False):
        for name in dirs + names:
            full = Path(root) / name
            if full.is_symlink():
                raise ValidationFailed(f"{full} is a symbolic link; refused.")
        for name in names:
            full = Path(root) / name
            rel = full.relative_to(path).as_posix()
            if len(files) >= limits.max_entries:
                raise ValidationFailed(f"{path} has more than {limits.max_entries} files.")
            total += full.stat().st_size
            if total > limits.max_total_bytes:
                raise ValidationFailed(f"{path} holds more than {limits.max_total_bytes // (1024 * 1024)} MB.")
            files[rel] = full.read_bytes()
    return files


# --- YAML with line numbers ---------------------------------------------------------------------


class YamlDoc:
    """A parsed YAML file that remembers the line of every field, for error messages."""

    def __init__(self, text: bytes | str, *, filename: str, limits: BundleLimits = DEFAULT_LIMITS):
        self.filename = filename
        self.errors: dict[str, list[str]] = {}
        self.lines: dict[str, int] = {}
        if len(text) > limits.max_manifest_bytes:
            raise ValidationFailed(f"{filename} is larger than {limits.max_manifest_bytes // 1024} KB.")
        if isinstance(text, bytes):
            try:
                text = text.decode("utf-8")
            except UnicodeDecodeError:
                raise ValidationFailed(f"{filename} is not UTF-8 text.") from None
        try:
            # Aliases would let a small file expand into a huge document; a manifest has no use for them.
            for event in yaml.parse(text, Loader=yaml.SafeLoader):
                if isinstance(event, yaml.AliasEvent):
                    line = event.start_mark.line + 1
                    raise ValidationFailed(f"{filename}, line {line}: YAML anchors and aliases are not supported.")
            loader = yaml.SafeLoader(text)
            try:
                node = loader.get_single_node()
                self.data = loader.construct_document(node) if node is not None else None
            finally:
                loader.dispose()
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            where = f", line {mark.line + 1}" if mark else ""
            raise ValidationFailed(f"{filename}{where}: this is not valid YAML ({exc.problem or exc}).") from None
        except yaml.YAMLError as exc:
            raise ValidationFailed(f"{filename}: this is not valid YAML ({exc}).") from None
        if node is not None:
            self._index(node, "")
        self._check_finite(self.data, "")
        self.raise_if_errors()

    def _check_finite(self, value: Any, path: str) -> None:
        # NaN and infinity are not JSON; the database would refuse them with an unfriendly error.
        if isinstance(value, float) and not math.isfinite(value):
            self.add(path, "Use a finite number.")
        elif isinstance(value, dict):
            for key, item in value.items():
                self._check_finite(item, f"{path}.{key}" if path else str(key))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                self._check_finite(item, f"{path}[{i}]")

    def _index(self, node, path: str) -> None:
        self.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                key = str(key_node.value)
                child = f"{path}.{key}" if path else key
                self.lines[child] = key_node.start_mark.line + 1
                self._index(value_node, child)
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                self._index(item, f"{path}[{i}]")

    def line_of(self, path: str) -> int:
        probe = path
        while probe:
            if probe in self.lines:
                return self.lines[probe]
            cut = max(probe.rfind("."), probe.rfind("["))
            probe = probe[:cut] if cut > 0 else ""
        return self.lines.get("", 1)

    def add(self, path: str, message: str) -> None:
        self.errors.setdefault(path, []).append(message)

    def raise_if_errors(self) -> None:
        if not self.errors:
            return
        fields = {
            f"{self.filename}:{path}": [f"line {self.line_of(path)}: {m}" for m in messages]
            for path, messages in self.errors.items()
        }
        path, messages = next(iter(self.errors.items()))
        more = len(self.errors) - 1
        tail = f" ({more} more problem{'s' if more != 1 else ''})" if more else ""
        raise ValidationFailed(
            f"{self.filename}, line {self.line_of(path)}, {path}: {messages[0]}{tail}", fields=fields
        )


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
    for i, machine in enumerate(machines):
        row = {"image": _machine_image(machine)}
        row.update({name: _plain(getattr(machine, name)) for name in MACHINE_FIELDS})
        machine_rows.append(row)
        if machine.ssh_password:
            omitted.append(f"machines[{i}].ssh_password")
        if machine.registry_credential_id:
            omitted.append(f"machines[{i}].registry_credential")
    files: dict[str, bytes] = {}
    asset_rows = []
    for i, asset in enumerate(version.assets.select_related("machine").order_by("id")):
        base = posixpath.basename(asset.file_name) or f"file-{i}"
        path = f"assets/{i + 1:03d}/{base}"
        try:
            with asset.file.open("rb") as fh:
                files[path] = fh.read()
        except OSError:
            raise ValidationFailed(f"The file of the asset {asset.file_name!r} is missing from storage.") from None
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


# --- Import: the plan ---------------------------------------------------------------------------


@dataclass
class PlannedFile:
    path: str
    content: bytes


@dataclass
class ImportPlan:
    """Everything one import will create, checked before anything is written."""

    slug: str
    version_fields: dict[str, Any]
    machines: list[Machine]
    pivot_points: list[NetworkPivotPoint]
    assets: list[tuple[ScenarioAsset, str | None, PlannedFile]]
    cover: PlannedFile | None
    source_format: str
    source_file: str


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
        doc.add(at, "Give the image as {variant: name}, {platform: label} or {ref: registry/name:tag}.")
        return
    if "variant" in image:
        candidates = list(ImageVariant.objects.filter(display_name=image["variant"]))
        if len(candidates) > 1 and image.get("image_ref"):
            candidates = [c for c in candidates if c.image_ref == image["image_ref"]] or candidates
        if not candidates:
            doc.add(f"{at}.variant", f"No image variant named {image['variant']!r} exists on this platform.")
            return
        machine.image_source_type = ImageSourceType.VARIANT
        machine.image_variant = candidates[0]
    elif "platform" in image:
        candidates = list(PlatformImage.objects.filter(label=image["platform"]))
        if len(candidates) > 1 and image.get("image_ref"):
            candidates = [c for c in candidates if c.image_ref == image["image_ref"]] or candidates
        if not candidates:
            doc.add(f"{at}.platform", f"No platform image labelled {image['platform']!r} exists on this platform.")
            return
        machine.image_source_type = ImageSourceType.PLATFORM
        machine.platform_image = candidates[0]
    elif isinstance(image.get("ref"), str) and image["ref"].strip():
        machine.image_source_type = ImageSourceType.CUSTOM
        machine.image_ref = image["ref"].strip()
    else:
        doc.add(at, "Give the image as {variant: name}, {platform: label} or {ref: registry/name:tag}.")


def _check_target_path(doc: YamlDoc, value: Any, at: str) -> None:
    if value and (not isinstance(value, str) or not value.startswith("/") or ".." in value.split("/")):
        doc.add(at, "Give an absolute path inside the machine, without '..'.")


def plan_rangex_manifest(doc: YamlDoc, files: dict[str, bytes], *, base: str = "") -> ImportPlan:
    """Check a RangeX manifest and the files it names; return what to create."""
    data = doc.data
    if not isinstance(data, dict):
        doc.add("", "The manifest must be a mapping.")
        doc.raise_if_errors()
    if data.get("format") != BUNDLE_FORMAT:
        doc.add("format", f"A RangeX bundle manifest says format: {BUNDLE_FORMAT}.")
    if data.get("format_version") != BUNDLE_FORMAT_VERSION:
        doc.add("format_version", f"This platform reads bundle format version {BUNDLE_FORMAT_VERSION}.")
    scenario = data.get("scenario")
    slug = scenario.get("slug") if isinstance(scenario, dict) else None
    if not isinstance(slug, str) or not slug.strip():
        doc.add("scenario.slug", "Give the scenario's slug.")
        slug = ""
    version_data = data.get("version")
    if not isinstance(version_data, dict):
        doc.add("version", "Give the version's fields as a mapping.")
        version_data = {}
    unknown = sorted(set(version_data) - set(VERSION_FIELDS) - {"cover_image"}, key=str)
    for name in unknown:
        doc.add(f"version.{name}", "This field is not known.")
    version_fields = {name: version_data[name] for name in VERSION_FIELDS if name in version_data}
    for name in ("questions", "hints"):
        value = data.get(name, [])
        if not isinstance(value, list):
            doc.add(name, f"{name.capitalize()} must be a list.")
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
        doc.add("machines", "Machines must be a list.")
        raw_machines = []
    names: set[str] = set()
    for i, row in enumerate(raw_machines):
        at = f"machines[{i}]"
        if not isinstance(row, dict):
            doc.add(at, "Each machine must be a mapping.")
            continue
        for name in sorted(set(row) - set(MACHINE_FIELDS) - {"image"}, key=str):
            doc.add(f"{at}.{name}", "This field is not known (secrets are never imported).")
        fields = {name: row[name] for name in MACHINE_FIELDS if name in row}
        if fields.get("cpu_cores") is not None:
            try:
                fields["cpu_cores"] = Decimal(str(fields["cpu_cores"]))
            except InvalidOperation:
                doc.add(f"{at}.cpu_cores", "Give a number of CPU cores.")
                fields.pop("cpu_cores")
        machine = Machine(**fields)
        _resolve_image(doc, machine, row.get("image"), f"{at}.image")
        _clean_model(doc, machine, at, exclude=["scenario_version", "image_variant", "platform_image"])
        if machine.name in names:
            doc.add(f"{at}.name", f"Another machine is already named {machine.name!r}.")
        names.add(machine.name)
        machines.append(machine)

    pivots = []
    raw_pivots = data.get("pivot_points", [])
    for i, row in enumerate(raw_pivots if isinstance(raw_pivots, list) else []):
        at = f"pivot_points[{i}]"
        if not isinstance(row, dict):
            doc.add(at, "Each pivot point must be a mapping.")
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
            doc.add(at, "Each asset must be a mapping.")
            continue
        planned = _planned_file(doc, files, row.get("file"), f"{at}.file", base=base)
        machine_name = row.get("machine")
        if machine_name is not None and (not isinstance(machine_name, str) or machine_name not in names):
            doc.add(f"{at}.machine", f"No machine named {machine_name!r} is in this bundle.")
        fields = {name: row[name] for name in ASSET_FIELDS if row.get(name) is not None}
        if planned and not fields.get("file_name"):
            fields["file_name"] = posixpath.basename(planned.path)
        asset = ScenarioAsset(**fields)
        _check_target_path(doc, asset.target_path, f"{at}.target_path")
        _clean_model(doc, asset, at, exclude=["scenario_version", "machine", "file"])
        if planned:
            assets.append((asset, machine_name, planned))
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
    )


_NULLABLE = {"creator_name", "code_of_ethics", "learning_outcomes", "network_topology", "docker_compose_path"}


def _planned_file(doc: YamlDoc, files: dict[str, bytes], path: Any, at: str, *, base: str = "") -> PlannedFile | None:
    safe = _safe_relative(path) if isinstance(path, str) else None
    if safe is None:
        doc.add(at, "Give a relative path inside the bundle, without '..'.")
        return None
    full = f"{base}/{safe}" if base else safe
    if full not in files:
        doc.add(at, f"The file {full!r} is not in the bundle.")
        return None
    return PlannedFile(path=full, content=files[full])


# --- Import: writing ----------------------------------------------------------------------------


def _check_actor(actor) -> None:
    if not (getattr(actor, "role_creator", False) or getattr(actor, "role_admin", False)):
        raise PermissionDenied("Only creators and admins may import scenarios.")


def _apply_plan(*, plan: ImportPlan, actor, stored: list[str]) -> ScenarioVersion:
    scenario = Scenario.objects.select_for_update().filter(slug=plan.slug).first()
    if scenario is not None and scenario.created_by_user_id != actor.pk:
        raise ValidationFailed(
            f"{plan.source_file}: the slug {plan.slug!r} belongs to another creator's scenario; choose another slug.",
            fields={f"{plan.source_file}:scenario.slug": ["This slug belongs to another creator's scenario."]},
        )
    if scenario is None:
        # A challenge.yml slug comes from its name: hold it to the same rules as a typed one.
        try:
            full_clean_or_raise(Scenario(slug=plan.slug), exclude=["created_by_user"], validate_unique=False)
        except ValidationFailed as exc:
            field = f"{plan.source_file}:scenario.slug"
            raise ValidationFailed(f"{plan.source_file}: {exc.message}", fields={field: [exc.message]}) from None
        try:
            with transaction.atomic():
                scenario = Scenario.objects.create(slug=plan.slug, created_by_user=actor)
        except IntegrityError:
            raise Conflict(f"Another import created the slug {plan.slug!r} at the same moment; try again.") from None
        number = 1
    else:
        number = (scenario.versions.aggregate(n=Max("version_number"))["n"] or 0) + 1
    version = ScenarioVersion(
        scenario=scenario, version_number=number, status=VersionStatus.DRAFT, **plan.version_fields
    )
    version.save()
    if plan.cover:
        version.cover_image.save(posixpath.basename(plan.cover.path), ContentFile(plan.cover.content), save=False)
        stored.append(version.cover_image.name)
        version.save(update_fields=["cover_image"])
    by_name = {}
    for machine in plan.machines:
        machine.scenario_version = version
        machine.save()
        by_name[machine.name] = machine
    for pivot in plan.pivot_points:
        pivot.scenario_version = version
        pivot.save()
    for asset, machine_name, planned in plan.assets:
        asset.scenario_version = version
        asset.machine = by_name.get(machine_name) if machine_name else None
        asset.file_size = len(planned.content)
        asset.sha256 = hashlib.sha256(planned.content).hexdigest()
        try:
            asset_check(asset, actor=actor)
        except ValidationFailed as exc:
            where = f"{plan.source_file}: {planned.path}"
            raise ValidationFailed(f"{where}: {exc.message}", fields={where: [exc.message]}) from None
        asset.file.save(posixpath.basename(asset.file_name) or "file", ContentFile(planned.content), save=False)
        stored.append(asset.file.name)
        asset.save()
    audit_record(
        actor=actor,
        action="scenario_version.import",
        target=version,
        details={
            "source_file": plan.source_file,
            "format": plan.source_format,
            "machines": len(plan.machines),
            "assets": len(plan.assets),
        },
    )
    return version


def _plans_for(files: dict[str, bytes], *, filename: str, limits: BundleLimits) -> list[ImportPlan]:
    from apps.scenarios import challenge_yml

    if MANIFEST_NAME in files:
        doc = YamlDoc(files[MANIFEST_NAME], filename=MANIFEST_NAME, limits=limits)
        return [plan_rangex_manifest(doc, files)]
    challenge_files = sorted(p for p in files if posixpath.basename(p) in ("challenge.yml", "challenge.yaml"))
    if not challenge_files:
        raise ValidationFailed(f"{filename} holds neither a {MANIFEST_NAME} manifest nor any challenge.yml file.")
    return [challenge_yml.plan_challenge(path, files, limits=limits) for path in challenge_files]


def load_source(data: bytes | Any, *, filename: str, limits: BundleLimits = DEFAULT_LIMITS) -> dict[str, bytes]:
    """Return the files of an upload: a zip, a folder path, or a single YAML file."""
    if isinstance(data, Path):
        if not data.is_dir():
            raise ValidationFailed(f"{data} is not a folder.")
        return read_folder(data, limits=limits)
    if isinstance(data, str):
        data = data.encode("utf-8")
    if not isinstance(data, bytes | bytearray):
        data = data.read(limits.max_upload_bytes + 1)
    if len(data) > limits.max_upload_bytes:
        raise ValidationFailed(f"{filename} is larger than {limits.max_upload_bytes // (1024 * 1024)} MB.")
    lower = filename.lower()
    if lower.endswith(".zip") or data[:4] == b"PK\x03\x04":
        return read_zip(bytes(data), filename=filename, limits=limits)
    if lower.endswith((".yml", ".yaml")):
        name = posixpath.basename(lower)
        if name in (MANIFEST_NAME, "scenario.yml"):
            return {MANIFEST_NAME: bytes(data)}
        return {"challenge.yml": bytes(data)}
    raise ValidationFailed(f"{filename}: upload a .zip bundle, a scenario.yaml or a challenge.yml file.")


def bundle_import_all(
    *, actor, data: bytes | Any, filename: str, limits: BundleLimits = DEFAULT_LIMITS
) -> list[ScenarioVersion]:
    """Import every scenario of an upload as new DRAFT versions, all or nothing."""
    _check_actor(actor)
    files = load_source(data, filename=filename, limits=limits)
    plans = _plans_for(files, filename=filename, limits=limits)
    slugs = [p.slug for p in plans]
    duplicates = sorted({s for s in slugs if slugs.count(s) > 1})
    if duplicates:
        raise ValidationFailed(f"{filename}: several challenges would get the slug {duplicates[0]!r}.")
    stored: list[str] = []
    try:
        with transaction.atomic():
            return [_apply_plan(plan=plan, actor=actor, stored=stored) for plan in plans]
    except BaseException:
        # The rows are rolled back; the files written on the way must go too.
        from django.core.files.storage import default_storage

        for name in stored:
            default_storage.delete(name)
        raise


def bundle_import(*, actor, data: bytes | Any, filename: str, limits: BundleLimits = DEFAULT_LIMITS) -> ScenarioVersion:
    """Import an upload and return the new DRAFT version (the first one when the upload holds several)."""
    return bundle_import_all(actor=actor, data=data, filename=filename, limits=limits)[0]


# --- Large uploads: a job and a task ------------------------------------------------------------

IMPORT_JOB_TYPE = "scenario_import"


def _import_folder() -> Path:
    from django.conf import settings

    folder = Path(settings.VAR_DIR) / "private" / "imports"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def version_admin_url(version: ScenarioVersion) -> str:
    """Return the admin change page of ``version``, or the admin index when that page is not there."""
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse("admin:scenarios_scenarioversion_change", args=[version.pk])
    except NoReverseMatch:
        return reverse("admin:index")


def bundle_import_enqueue(*, actor, upload, filename: str, limits: BundleLimits = DEFAULT_LIMITS):
    """Store an upload in a private folder and import it in a background job; return the Job."""
    from apps.ops.services import job_create
    from apps.scenarios.tasks import scenario_bundle_import
    from rangex.core.tasks import enqueue

    _check_actor(actor)
    suffix = Path(filename).suffix.lower()
    if suffix not in (".zip", ".yml", ".yaml"):
        raise ValidationFailed(f"{filename}: upload a .zip bundle, a scenario.yaml or a challenge.yml file.")
    folder = _import_folder()
    fd, name = tempfile.mkstemp(dir=folder, suffix=suffix)
    size = 0
    with os.fdopen(fd, "wb") as out:
        for chunk in upload.chunks() if hasattr(upload, "chunks") else [upload.read()]:
            size += len(chunk)
            if size > limits.max_upload_bytes:
                out.close()
                os.unlink(name)
                raise ValidationFailed(f"{filename} is larger than {limits.max_upload_bytes // (1024 * 1024)} MB.")
            out.write(chunk)
    with transaction.atomic():
        job = job_create(type=IMPORT_JOB_TYPE, user=actor, payload={"path": name, "filename": filename, "size": size})
        audit_record(actor=actor, action="scenario_version.import_queued", target=job, details={"filename": filename})
        enqueue(scenario_bundle_import, job_id=str(job.pk))
    return job


def bundle_import_job_run(*, job_id) -> None:
    """Run a queued import job: import the stored upload, record the outcome, delete the upload."""
    from apps.ops.services import job_fail, job_progress, job_start, job_succeed

    job = job_start(job_id=job_id)
    path = Path(job.payload.get("path", ""))
    try:
        if job.user is None or not path.is_file() or path.parent != _import_folder():
            job_fail(job_id=job_id, error="The uploaded file is gone; upload it again.")
            return
        job_progress(job_id=job_id, progress=10, message="Reading the bundle")
        try:
            with path.open("rb") as fh:
                versions = bundle_import_all(actor=job.user, data=fh, filename=job.payload.get("filename", path.name))
        except ApplicationError as exc:
            details = [f"{field}: {m}" for field, ms in exc.fields.items() for m in ms]
            job_fail(job_id=job_id, error="\n".join([exc.message, *details]))
            return
        except Exception as exc:
            # Never leave the person waiting on a job that stays "running".
            logger.exception("scenario import job %s failed", job_id)
            job_fail(
                job_id=job_id, error=f"The import failed unexpectedly ({exc.__class__.__name__}); nothing was imported."
            )
            return
        job_succeed(
            job_id=job_id,
            result={
                "url": version_admin_url(versions[0]),
                "versions": [{"id": str(v.pk), "slug": v.scenario.slug, "number": v.version_number} for v in versions],
            },
            message=f"Imported {', '.join(str(v) for v in versions)}",
        )
    finally:
        if path.is_file() and path.parent == _import_folder():
            path.unlink(missing_ok=True)
