"""Importing scenarios: turn an upload's plans into DRAFT versions through the scenario services.

An upload (a RangeX bundle, a folder or zip of CTFd ``challenge.yml`` files, one YAML file) is read
safely by ``bundle_io``, each scenario in it is planned and checked by ``bundles`` or
``challenge_yml``, and only then written, all or nothing, through the same services a creator uses
by hand (``scenario_version_draft_add``, ``scenario_version_component_save``): imports number
versions, check permissions, quotas and file types, and write audit rows exactly as hand-made
versions do. Large uploads run as a background job with progress.
"""

from __future__ import annotations

import logging
import os
import posixpath
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from apps.scenarios import bundles, challenge_yml
from apps.scenarios.bundle_io import (
    CHALLENGE_NAMES,
    COMPOSE_NAMES,
    DEFAULT_LIMITS,
    MANIFEST_NAME,
    BundleLimits,
    FolderFiles,
    ImportPlan,
    YamlDoc,
    load_source,
)
from apps.scenarios.compose import plan_compose, plan_compose_scenario
from apps.scenarios.image_builds import machine_context_set, tool_usage_refresh
from apps.scenarios.models import Scenario, ScenarioVersion
from apps.scenarios.services import scenario_author_require, scenario_version_component_save, scenario_version_draft_add
from rangex.core.audit import AuditAction, audit_record
from rangex.core.errors import ApplicationError, ValidationFailed

logger = logging.getLogger(__name__)


def _in_file(plan: ImportPlan, exc: ValidationFailed, *, where: str = "", field: str | None = None) -> ValidationFailed:
    """Return ``exc`` restated for the file (and the part of it) the import came from."""
    place = f"{plan.source_file}: {where}" if where else plan.source_file
    key = field or where or plan.source_file
    return ValidationFailed(
        _("%(place)s: %(message)s") % {"place": place, "message": exc.message}, fields={key: [exc.message]}
    )


def _apply_plan(*, plan: ImportPlan, actor, stored: list[str]) -> ScenarioVersion:
    """Write one plan through the scenario services; note every stored file in ``stored``."""
    fields = dict(plan.version_fields)
    if plan.cover:
        fields["cover_image"] = ContentFile(plan.cover.content, name=posixpath.basename(plan.cover.path))
    try:
        version = scenario_version_draft_add(actor=actor, slug=plan.slug, fields=fields, source=plan.source_file)
    except ValidationFailed as exc:
        raise _in_file(plan, exc, field=f"{plan.source_file}:scenario.slug") from None
    if version.cover_image:
        stored.append(version.cover_image.name)
    by_name = {}
    for component in [*plan.machines, *plan.pivot_points]:
        build_files = getattr(component, "planned_build_files", None)
        if build_files:
            machine_context_set(component, build_files)
            stored.append(component.build_context.name)
        try:
            scenario_version_component_save(version=version, actor=actor, obj=component)
        except ValidationFailed as exc:
            raise _in_file(plan, exc, where=str(component)) from None
        if hasattr(component, "role"):
            by_name[component.name] = component
            if getattr(component, "planned_tools", None):
                component.tools.set(component.planned_tools)
                tool_usage_refresh()
    for asset, machine_name, planned in plan.assets:
        asset.machine = by_name.get(machine_name) if machine_name else None
        asset.file = ContentFile(planned.content, name=posixpath.basename(asset.file_name) or "file")
        try:
            scenario_version_component_save(version=version, actor=actor, obj=asset)
        except ValidationFailed as exc:
            raise _in_file(plan, exc, where=planned.path) from None
        finally:
            if asset.file and getattr(asset.file, "_committed", False):
                stored.append(asset.file.name)
    for rule in plan.rules:
        rule.scenario_version = version
        rule.save()
    # The rows above are the ones a hand-made version gets; this one says where the content came from.
    audit_record(
        actor=actor,
        action=AuditAction.SCENARIO_VERSION_IMPORT,
        target=version,
        details={
            "source_file": plan.source_file,
            "format": plan.source_format,
            "machines": len(plan.machines),
            "assets": len(plan.assets),
        },
    )
    return version


# --- Planning: every scenario of an upload, every problem of each -------------------------------


@dataclass
class ImportEntry:
    """One scenario of an upload: what it became, or why it was refused, and what was not kept."""

    source_file: str
    name: str = ""
    slug: str = ""
    status: str = "refused"  # imported | refused | valid (checked; not written because another was refused)
    outcome: str = ""
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    fields: dict[str, list[str]] = field(default_factory=dict)
    version: ScenarioVersion | None = None
    plan: ImportPlan | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "source_file": self.source_file,
            "name": self.name,
            "slug": self.slug,
            "status": self.status,
            "outcome": self.outcome,
            "version_id": str(self.version.pk) if self.version else None,
            "version_number": self.version.version_number if self.version else None,
            "url": version_admin_url(self.version) if self.version else None,
            "errors": self.errors,
            "warnings": self.warnings,
        }


@dataclass
class ImportReport:
    """What an import did with each scenario of an upload; the command, the page and the API show it."""

    filename: str
    partial: bool = False
    entries: list[ImportEntry] = field(default_factory=list)

    @property
    def imported(self) -> list[ImportEntry]:
        return [e for e in self.entries if e.status == "imported"]

    @property
    def refused(self) -> list[ImportEntry]:
        return [e for e in self.entries if e.status == "refused"]

    @property
    def versions(self) -> list[ScenarioVersion]:
        return [e.version for e in self.imported]

    @property
    def warning_count(self) -> int:
        return sum(len(e.warnings) for e in self.entries)

    def summary(self) -> str:
        counts = {"filename": self.filename, "imported": len(self.imported), "refused": len(self.refused)}
        warnings = ngettext("%(count)s warning", "%(count)s warnings", self.warning_count) % {
            "count": self.warning_count
        }
        if self.refused and not self.partial and not self.imported:
            text = _(
                "%(filename)s: %(imported)s imported, %(refused)s refused, %(warnings)s; "
                "nothing was imported (import the valid ones with --partial)."
            )
        else:
            text = _("%(filename)s: %(imported)s imported, %(refused)s refused, %(warnings)s.")
        return text % {**counts, "warnings": warnings}

    def as_dict(self) -> dict[str, Any]:
        return {
            "filename": self.filename,
            "partial": self.partial,
            "imported": len(self.imported),
            "refused": len(self.refused),
            "warnings": self.warning_count,
            "summary": self.summary(),
            "entries": [e.as_dict() for e in self.entries],
        }

    def error(self) -> ValidationFailed:
        """Return the refusal of the whole upload, naming every problem of every scenario."""
        fields: dict[str, list[str]] = {}
        for entry in self.refused:
            for key, messages in (entry.fields or {entry.source_file: entry.errors}).items():
                fields.setdefault(key, []).extend(messages)
        first = self.refused[0].errors[0] if self.refused and self.refused[0].errors else self.summary()
        more = sum(len(e.errors) for e in self.refused) - 1
        tail = (
            " (" + ngettext("%(count)s more problem", "%(count)s more problems", more) % {"count": more} + ")"
            if more > 0
            else ""
        )
        return ValidationFailed(_("%(first)s%(tail)s") % {"first": first, "tail": tail}, fields=fields)


def _messages(exc: ValidationFailed) -> list[str]:
    """Return every problem of a refusal as "file, line N, field: message" lines."""
    lines = []
    for key, messages in (exc.fields or {}).items():
        source, _, path = key.partition(":")
        for message in messages:
            line, _, text = message.partition(": ") if message.startswith("line ") else ("", "", message)
            place = ", ".join(p for p in (source, line, path) if p)
            lines.append(f"{place}: {text}")
    return lines or [exc.message]


def _units(files: dict[str, bytes], *, filename: str) -> list[tuple[str, str]]:
    """Return (kind, path) of every scenario in an upload: a manifest, challenge files or Compose files."""
    if MANIFEST_NAME in files:
        return [("rangex", MANIFEST_NAME)]
    names = list(files)
    challenges = sorted(p for p in names if posixpath.basename(p) in CHALLENGE_NAMES)
    lone = len(names) == 1 and names[0].lower().endswith((".yml", ".yaml"))
    if not challenges and lone and posixpath.basename(names[0]) not in COMPOSE_NAMES:
        challenges = names
    if challenges:
        return [("ctfd", p) for p in challenges]
    composes = sorted(p for p in names if posixpath.basename(p) in COMPOSE_NAMES)
    if composes:
        return [("compose", p) for p in composes]
    raise ValidationFailed(
        _("%(filename)s holds no %(MANIFEST_NAME)s manifest, no challenge.yml and no docker-compose.yml file.")
        % {"filename": filename, "MANIFEST_NAME": MANIFEST_NAME}
    )


def _plan(kind: str, path: str, files: dict[str, bytes], *, limits: BundleLimits) -> ImportPlan:
    if kind == "ctfd":
        return challenge_yml.plan_challenge(path, files, limits=limits)
    if kind == "compose":
        return plan_compose_scenario(path, files, limits=limits)
    doc = YamlDoc(files[path], filename=path, limits=limits)
    plan = bundles.plan_rangex_manifest(doc, files)
    compose_path = plan.version_fields.get("docker_compose_path")
    if not plan.machines and compose_path and compose_path in files:
        # A bundle may describe its machines with the Compose file it names instead of a list.
        compose_doc = YamlDoc(files[compose_path], filename=compose_path, limits=limits)
        topology = plan_compose(compose_doc, slug=plan.slug, files=files, base=posixpath.dirname(compose_path))
        compose_doc.raise_if_errors()
        plan.machines, plan.pivot_points = topology.machines, topology.pivot_points
        plan.version_fields.setdefault("network_topology", topology.network_topology)
        plan.warnings.extend(compose_doc.warnings)
    return plan


def _free_slug(slug: str, taken: set[str]) -> str:
    for n in range(2, 1000):
        candidate = f"{slug[: 120 - len(str(n)) - 1]}-{n}"
        if candidate not in taken and not Scenario.objects.filter(slug=candidate).exists():
            return candidate
    raise ValidationFailed(_("No free slug is left for %(slug)s.") % {"slug": repr(slug)})


def _assign_slugs(entries: list[ImportEntry], *, actor, new_version_of: str | None) -> None:
    """Decide for each planned scenario: a new scenario (under a free slug) or a new version of one."""
    valid = [e for e in entries if e.plan is not None]
    target = None
    if new_version_of:
        matching = [e for e in valid if e.plan.slug == new_version_of] or (valid if len(valid) == 1 else [])
        if not matching:
            raise ValidationFailed(
                _("No challenge of this upload is named after %(new_version_of)s.")
                % {"new_version_of": repr(new_version_of)}
            )
        target = matching[0]
        owner = Scenario.objects.filter(slug=new_version_of).values_list("created_by_user_id", flat=True).first()
        if owner is None:
            raise ValidationFailed(
                _("There is no scenario with the slug %(new_version_of)s.") % {"new_version_of": repr(new_version_of)}
            )
        if owner != actor.pk and not getattr(actor, "is_platform_admin", False):
            raise ValidationFailed(
                _("The scenario %(new_version_of)s belongs to another creator.")
                % {"new_version_of": repr(new_version_of)}
            )
    taken: set[str] = set()
    for entry in valid:
        plan = entry.plan
        if entry is target:
            plan.slug = new_version_of
            entry.outcome = f"new version of {new_version_of}"
        elif plan.slug_is_identity:
            exists = Scenario.objects.filter(slug=plan.slug).exists()
            entry.outcome = f"new version of {plan.slug}" if exists else "new scenario"
        else:
            if plan.slug in taken or Scenario.objects.filter(slug=plan.slug).exists():
                wanted = plan.slug
                plan.slug = _free_slug(wanted, taken)
                entry.warnings.append(
                    f"{plan.source_file}: a scenario with the slug {wanted!r} exists; this one is a new scenario "
                    f"{plan.slug!r} (use --new-version-of {wanted} to add a version to it instead)."
                )
            entry.outcome = "new scenario"
        taken.add(plan.slug)
        entry.slug = plan.slug


def _resolve_requirements(entries: list[ImportEntry]) -> None:
    """Turn CTFd requirement names into scenario slugs: this upload first, then the platform."""
    by_name = {e.plan.name: e.plan.slug for e in entries if e.plan is not None and e.plan.name}
    for entry in entries:
        plan = entry.plan
        if plan is None or not plan.requirement_names:
            continue
        slugs = []
        for name in plan.requirement_names:
            slug = by_name.get(str(name)) if isinstance(name, str) else None
            if slug is None and isinstance(name, str):
                slug = _existing_slug(name)
            if slug is None:
                slug = slugify(str(name))[:120] if isinstance(name, str) else None
                what = f"CTFd id {name}" if slug is None else f"{name!r}"
                entry.warnings.append(
                    f"{plan.source_file}, requirements: {what} names no challenge of this upload or of the platform; "
                    + ("dropped (CTFd ids mean nothing here)." if slug is None else f"kept as the slug {slug!r}.")
                )
            if slug and slug != plan.slug and slug not in slugs:
                slugs.append(slug)
        plan.version_fields["metadata"].setdefault("requirements", {"anonymize": False})["prerequisites"] = slugs


def _existing_slug(name: str) -> str | None:
    if Scenario.objects.filter(slug=name).exists():
        return name
    version = ScenarioVersion.objects.filter(title=name).order_by("-published_at", "-created_at").first()
    return version.scenario.slug if version else None


def scenario_import(
    *,
    actor,
    data: bytes | Any,
    filename: str,
    partial: bool = False,
    new_version_of: str | None = None,
    limits: BundleLimits = DEFAULT_LIMITS,
    progress=None,
    only: bool = False,
) -> ImportReport:
    """Check every scenario of an upload, then write the valid ones as DRAFT versions.

    With ``only``, ``data`` is a folder on disk and ``filename`` the one file of it to import, read
    with the files it names beside it. Without
    ``partial`` nothing is written unless every scenario is valid; with it, the valid ones
    are imported and the others reported. ``new_version_of`` makes the upload's scenario of that
    slug (or its only one) the next version of the existing scenario. ``progress(done, total)`` is
    called as scenarios are written.
    """
    scenario_author_require(actor)
    if only:
        # One file of a folder on disk (``data``), read with the files it names beside it; messages
        # name it as the person did (``filename``).
        files = FolderFiles(Path(data), first=filename, limits=limits)
        units = [("compose" if posixpath.basename(filename).lower() in COMPOSE_NAMES else "ctfd", filename)]
    else:
        files = load_source(data, filename=filename, limits=limits)
        units = _units(files, filename=filename)
    report = ImportReport(filename=filename, partial=partial)
    for kind, path in units:
        entry = ImportEntry(source_file=path)
        try:
            entry.plan = _plan(kind, path, files, limits=limits)
        except ValidationFailed as exc:
            entry.errors, entry.fields = _messages(exc), dict(exc.fields or {})
        else:
            entry.name, entry.slug, entry.status = entry.plan.name, entry.plan.slug, "valid"
            entry.warnings = list(entry.plan.warnings)
        report.entries.append(entry)
    _assign_slugs(report.entries, actor=actor, new_version_of=new_version_of)
    _resolve_requirements(report.entries)
    if report.refused and not partial:
        return report
    todo = [e for e in report.entries if e.plan is not None]
    stored: list[str] = []
    try:
        with transaction.atomic():
            for done, entry in enumerate(todo, start=1):
                try:
                    # One savepoint each: with ``partial`` a failed write refuses only its own scenario.
                    with transaction.atomic():
                        entry.version = _apply_plan(plan=entry.plan, actor=actor, stored=stored)
                    entry.status = "imported"
                except ValidationFailed as exc:
                    entry.status, entry.errors, entry.fields = "refused", _messages(exc), dict(exc.fields or {})
                    if not partial:
                        raise
                if progress:
                    progress(done, len(todo))
    except ValidationFailed:
        # Without ``partial`` one failed write undoes them all; the report says which failed.
        _delete_stored(stored)
        for entry in todo:
            if entry.status == "imported":
                entry.status, entry.version = "valid", None
        return report
    except BaseException:
        _delete_stored(stored)
        raise
    _delete_stored([name for name in stored if not _still_used(name)])
    return report


def _still_used(name: str) -> bool:
    from apps.scenarios.models import Machine, ScenarioAsset

    return (
        ScenarioAsset.objects.filter(file=name).exists()
        or ScenarioVersion.objects.filter(cover_image=name).exists()
        or Machine.objects.filter(build_context=name).exists()
    )


def _delete_stored(names: list[str]) -> None:
    from django.core.files.storage import default_storage

    for name in names:
        default_storage.delete(name)


def bundle_import_all(
    *, actor, data: bytes | Any, filename: str, limits: BundleLimits = DEFAULT_LIMITS
) -> list[ScenarioVersion]:
    """Import every scenario of an upload as new DRAFT versions, all or nothing; refuse with every problem."""
    report = scenario_import(actor=actor, data=data, filename=filename, limits=limits)
    if report.refused:
        raise report.error()
    return report.versions


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


def bundle_import_enqueue(
    *,
    actor,
    upload,
    filename: str,
    partial: bool = False,
    new_version_of: str | None = None,
    limits: BundleLimits = DEFAULT_LIMITS,
):
    """Store an upload in a private folder and import it in a background job; return the Job."""
    from rangex.core.jobs import job_create
    from rangex.core.scheduling import enqueue

    scenario_author_require(actor)
    suffix = Path(filename).suffix.lower()
    if suffix not in (".zip", ".yml", ".yaml"):
        raise ValidationFailed(
            _("%(filename)s: upload a .zip bundle, a scenario.yaml or a challenge.yml file.") % {"filename": filename}
        )
    folder = _import_folder()
    fd, name = tempfile.mkstemp(dir=folder, suffix=suffix)
    size = 0
    with os.fdopen(fd, "wb") as out:
        for chunk in upload.chunks() if hasattr(upload, "chunks") else [upload.read()]:
            size += len(chunk)
            if size > limits.max_upload_bytes:
                out.close()
                os.unlink(name)
                raise ValidationFailed(
                    _("%(filename)s is larger than %(value)s MB.")
                    % {"filename": filename, "value": limits.max_upload_bytes // (1024 * 1024)}
                )
            out.write(chunk)
    with transaction.atomic():
        payload = {
            "path": name,
            "filename": filename,
            "size": size,
            "partial": partial,
            "new_version_of": new_version_of,
        }
        job = job_create(type=IMPORT_JOB_TYPE, user=actor, payload=payload)
        audit_record(
            actor=actor, action=AuditAction.SCENARIO_VERSION_IMPORT_QUEUED, target=job, details={"filename": filename}
        )
        enqueue("apps.scenarios.tasks.scenario_bundle_import", job_id=str(job.pk))
    return job


def bundle_import_job_run(*, job_id) -> None:
    """Run a queued import job: import the stored upload, record the outcome, delete the upload."""
    from rangex.core.jobs import job_fail, job_progress, job_start, job_succeed

    job = job_start(job_id=job_id)
    path = Path(job.payload.get("path", ""))
    try:
        if job.user is None or not path.is_file() or path.parent != _import_folder():
            job_fail(job_id=job_id, error="The uploaded file is gone; upload it again.")
            return
        job_progress(job_id=job_id, progress=10, message=_("Reading and checking every challenge"))

        def progress(done: int, total: int) -> None:
            job_progress(
                job_id=job_id,
                progress=10 + 85 * done // max(total, 1),
                message=_("Imported %(done)s of %(total)s") % {"done": done, "total": total},
            )

        try:
            with path.open("rb") as fh:
                report = scenario_import(
                    actor=job.user,
                    data=fh,
                    filename=job.payload.get("filename", path.name),
                    partial=bool(job.payload.get("partial")),
                    new_version_of=job.payload.get("new_version_of"),
                    progress=progress,
                )
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
        result = report.as_dict()
        if not report.imported:
            lines = [
                f"{e.source_file}: {m}" if not m.startswith(e.source_file) else m
                for e in report.refused
                for m in e.errors
            ]
            job_fail(job_id=job_id, error="\n".join([report.summary(), *lines]))
            return
        result["url"] = version_admin_url(report.versions[0])
        result["versions"] = [
            {"id": str(v.pk), "slug": v.scenario.slug, "number": v.version_number} for v in report.versions
        ]
        job_succeed(job_id=job_id, result=result, message=report.summary())
    finally:
        if path.is_file() and path.parent == _import_folder():
            path.unlink(missing_ok=True)
