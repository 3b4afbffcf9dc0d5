"""Machines whose image is built: from a build context the version carries, and with catalogue tools.

A machine is built when it has a build context (a tar with a Dockerfile, from a bundle or the
admin) or tools picked from the catalogue. Its final context is the creator's files with the tool
installs appended to the Dockerfile (or, without a context, ``FROM <the machine's image>`` and the
installs): tools are installed when the image is built, never at launch. The final context is a
deterministic tar, so its content hash (the image tag) only changes when the sources or the tools
do, and the image pipeline (``apps.images.pipeline``) never builds the same content twice.
"""

from __future__ import annotations

import io
import tarfile

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Count, Q
from django.utils.translation import gettext as _

from apps.images.models import ImagePipelineStage
from apps.images.pipeline import BUILT_IMAGE_NAME, content_tag, image_pipeline_request, launch_ref
from apps.scenarios.bundle_io import safe_relative
from apps.scenarios.models import ImageSourceType, Machine, ScenarioVersion, Tool, VersionStatus
from rangex.core.errors import ValidationFailed

DOCKERFILE = "Dockerfile"
PACKAGE_INSTALLS = {
    "apt": "apt-get update && apt-get install -y --no-install-recommends {package} && rm -rf /var/lib/apt/lists/*",
    "apk": "apk add --no-cache {package}",
    "pip": "pip install --no-cache-dir {package}",
}


# --- Build contexts: checked like bundles, stored as deterministic tars ------------------------


def context_tar(files: dict[str, bytes]) -> bytes:
    """Return a tar of ``files`` that depends only on their names and bytes (no times, owners)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(files):
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(files[name]), 0o644, 0
            tar.addfile(info, io.BytesIO(files[name]))
    return buffer.getvalue()


def check_context_files(files: dict[str, bytes], *, where: str) -> dict[str, bytes]:
    """Refuse a context without a Dockerfile, with unsafe names or with an oversized file; return it."""
    file_limit, total_limit = settings.RANGEX_MAX_BUILD_FILE_BYTES, settings.RANGEX_MAX_BUILD_CONTEXT_BYTES
    total = 0
    for name, content in files.items():
        if safe_relative(name) != name:
            raise ValidationFailed(
                _("%(where)s: the file %(name)s has an absolute path or '..'; refused.")
                % {"where": where, "name": repr(name)}
            )
        if len(content) > file_limit:
            raise ValidationFailed(
                _("%(where)s: the file %(name)s is larger than %(value)s MB; refused.")
                % {"where": where, "name": repr(name), "value": file_limit // (1024 * 1024)},
                fields={
                    "build_context": [
                        _("%(name)s is over the %(value)s MB limit per file.")
                        % {"name": name, "value": file_limit // (1024 * 1024)}
                    ]
                },
            )
        total += len(content)
    if total > total_limit:
        raise ValidationFailed(
            _("%(where)s: the build context holds more than %(value)s MB.")
            % {"where": where, "value": total_limit // (1024 * 1024)}
        )
    if DOCKERFILE not in files:
        raise ValidationFailed(
            _("%(where)s: the build context has no Dockerfile at its root.") % {"where": where},
            fields={"build_context": [_("Put a Dockerfile at the root of the context.")]},
        )
    return files


def context_from_bundle(files: dict[str, bytes], folder: str, *, where: str) -> dict[str, bytes]:
    """Return the files under ``folder`` of a bundle (already read safely), relative to it."""
    safe = safe_relative(folder) if isinstance(folder, str) else None
    if safe is None:
        raise ValidationFailed(
            _("%(where)s: give the build context as a relative folder of the bundle, without '..'.") % {"where": where}
        )
    prefix = safe + "/"
    found = {name[len(prefix) :]: content for name, content in files.items() if name.startswith(prefix)}
    if not found:
        raise ValidationFailed(
            _("%(where)s: the folder %(safe)s is not in the bundle.") % {"where": where, "safe": repr(safe)}
        )
    return check_context_files(found, where=where)


def read_context_tar(data: bytes, *, where: str) -> dict[str, bytes]:
    """Return the files of an uploaded context tar; links, devices, traversal and oversize are refused."""
    file_limit = settings.RANGEX_MAX_BUILD_FILE_BYTES
    files: dict[str, bytes] = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
            for member in tar:
                name = member.name.rstrip("/") if member.isdir() else member.name
                if safe_relative(name) is None:
                    raise ValidationFailed(
                        _("%(where)s: the entry %(name)s has an absolute path or '..'; refused.")
                        % {"where": where, "name": repr(member.name)}
                    )
                if member.issym() or member.islnk():
                    raise ValidationFailed(
                        _("%(where)s: the entry %(name)s is a link; refused.")
                        % {"where": where, "name": repr(member.name)}
                    )
                if member.isdir():
                    continue
                if not member.isfile():
                    raise ValidationFailed(
                        _("%(where)s: the entry %(name)s is not a regular file; refused.")
                        % {"where": where, "name": repr(member.name)}
                    )
                if member.size > file_limit:
                    raise ValidationFailed(
                        _("%(where)s: the file %(name)s is larger than %(value)s MB; refused.")
                        % {"where": where, "name": repr(member.name), "value": file_limit // (1024 * 1024)}
                    )
                files[safe_relative(name)] = tar.extractfile(member).read()
    except (tarfile.TarError, EOFError, OSError):
        raise ValidationFailed(_("%(where)s: this is not a readable tar file.") % {"where": where}) from None
    return check_context_files(files, where=where)


def machine_context_set(machine: Machine, files: dict[str, bytes]) -> None:
    """Attach checked context files to an unsaved or saved machine (stored content-addressed)."""
    from django.core.files.storage import default_storage

    data = context_tar(files)
    machine.build_context_hash = content_tag(data)
    path = f"build-contexts/{machine.build_context_hash}.tar"
    # Content-addressed: the same sources are stored once, whichever version or import brings them.
    if default_storage.exists(path):
        machine.build_context.name = path
    else:
        machine.build_context.save(f"{machine.build_context_hash}.tar", ContentFile(data), save=False)


# --- Tools and the final context ---------------------------------------------------------------


def tool_install_command(tool: Tool) -> str:
    if tool.install_command.strip():
        return tool.install_command.strip()
    template = PACKAGE_INSTALLS.get(tool.package_manager.strip().lower())
    return template.format(package=tool.package_name.strip()) if template and tool.package_name.strip() else ""


def machine_tools(machine: Machine) -> list[Tool]:
    """Return the active catalogue tools the machine picks, and those its image variant names."""
    picked = {tool.pk: tool for tool in machine.tools.filter(is_active=True)}
    variant = machine.image_variant if machine.image_source_type == ImageSourceType.VARIANT else None
    names = [n for n in (getattr(variant, "included_tools", None) or []) if isinstance(n, str)]
    if picked and names:
        for tool in Tool.objects.filter(name__in=names, is_active=True):
            picked.setdefault(tool.pk, tool)
    return sorted(picked.values(), key=lambda t: t.name)


def machine_base_image(machine: Machine) -> str:
    if machine.image_source_type == ImageSourceType.VARIANT and machine.image_variant_id:
        return machine.image_variant.image_ref
    if machine.image_source_type == ImageSourceType.PLATFORM and machine.platform_image_id:
        return machine.platform_image.image_ref
    return machine.image_ref


def machine_is_built(machine: Machine) -> bool:
    return bool(machine.build_context) or machine.tools.filter(is_active=True).exists()


def machine_build_context(machine: Machine) -> bytes | None:
    """Return the final context of a built machine (sources plus tool installs), or None."""
    if not machine_is_built(machine):
        return None
    if machine.build_context:
        with machine.build_context.open("rb") as fh:
            files = read_context_tar(fh.read(), where=f"machine {machine.name}")
    else:
        base = machine_base_image(machine)
        if not base:
            raise ValidationFailed(
                _("Machine %(name)s has tools but no image to install them into.") % {"name": machine.name}
            )
        files = {DOCKERFILE: f"FROM {base}\n".encode()}
    tools = machine_tools(machine)
    if tools:
        steps = ["", "# Tools from the RangeX catalogue, installed at build time.", "USER root"]
        for tool in tools:
            command = tool_install_command(tool)
            if command:
                steps += [f"# {tool.name} {tool.version}".rstrip(), f"RUN {command}"]
        steps.append(f'LABEL rangex.tools="{",".join(t.name for t in tools)}"')
        files = {**files, DOCKERFILE: files[DOCKERFILE].rstrip(b"\n") + ("\n".join(steps) + "\n").encode()}
    return context_tar(files)


def machine_image_tag(machine: Machine) -> str | None:
    context = machine_build_context(machine)
    return content_tag(context) if context is not None else None


def machine_built_image(machine: Machine) -> str | None:
    """Return the image a launch of a built machine uses (None: the machine is not built).

    Production's copy once deployed; before that this engine's build (for test deploys and review).
    """
    tag = machine_image_tag(machine)
    if tag is None:
        return None
    stage = ImagePipelineStage.objects.filter(image_name=BUILT_IMAGE_NAME, image_tag=tag).first()
    return launch_ref(stage) if stage is not None else f"{BUILT_IMAGE_NAME}:{tag}"


def machine_built_image_problem(machine: Machine, *, allow_unapproved: bool = False) -> str | None:
    """Say why a built machine cannot be launched yet (None: it can, or it is not built at all).

    Solvers' labs need the approved production image; a test deploy (``allow_unapproved``) may run
    the build waiting for review, which is what a reviewer tries.
    """
    tag = machine_image_tag(machine)
    if tag is None:
        return None
    stage = ImagePipelineStage.objects.filter(image_name=BUILT_IMAGE_NAME, image_tag=tag).first()
    if stage is None:
        return f"The image of machine {machine.name} has not been built yet (an admin runs Build images)."
    status = ImagePipelineStage.Status
    if stage.status == status.DONE:
        return None
    if allow_unapproved and stage.local_built_at and stage.status not in (status.FAILED, status.REJECTED):
        return None
    return f"The image of machine {machine.name} is not in production yet: {stage.get_status_display().lower()}."


def version_images_build(*, version: ScenarioVersion, actor) -> list[ImagePipelineStage]:
    """Queue the pipeline of every built machine of ``version``; unchanged contexts are not rebuilt."""
    stages = []
    machines = version.machines.select_related("image_variant", "platform_image").prefetch_related("tools")
    for machine in machines:
        context = machine_build_context(machine)
        if context is None:
            continue
        stages.append(
            image_pipeline_request(
                context=context,
                actor=actor,
                machine_name=machine.name,
                scenario_id=version.scenario_id,
                scenario_version_id=version.pk,
            )
        )
    if not stages:
        raise ValidationFailed(_("No machine of this version has a build context or tools to build."))
    return stages


# --- Usage counts and who uses an image ---------------------------------------------------------


@transaction.atomic
def tool_usage_refresh() -> None:
    """Set every tool's ``usage_count`` to the number of versions with a machine that picks it."""
    counts = dict(Tool.objects.annotate(n=Count("machines__scenario_version", distinct=True)).values_list("pk", "n"))
    for tool in Tool.objects.select_for_update().only("pk", "usage_count"):
        if tool.usage_count != counts.get(tool.pk, 0):
            Tool.objects.filter(pk=tool.pk).update(usage_count=counts.get(tool.pk, 0))


def versions_using_images(*, refs: list[str], live_only: bool = False) -> dict[str, list[str]]:
    """Receiver of ``images.image_users``: image reference -> the versions whose machines run it."""
    wanted = set(refs)
    found: dict[str, list[str]] = {}
    machines = Machine.objects.select_related("scenario_version__scenario", "image_variant", "platform_image")
    if live_only:
        machines = machines.exclude(scenario_version__status=VersionStatus.ARCHIVED)
    direct = Q(image_ref__in=wanted) | Q(image_variant__image_ref__in=wanted) | Q(platform_image__image_ref__in=wanted)
    built_tags = {ref.rsplit(":", 1)[-1] for ref in wanted if ":" in ref}
    built = ~Q(build_context="") | Q(tools__isnull=False)
    for machine in machines.filter(direct | built).distinct():
        version = machine.scenario_version
        name = f"{version.scenario.slug} v{version.version_number} ({machine.name})"
        refs_of = {machine_base_image(machine)}
        if built_tags and machine_is_built(machine):
            tag = machine_image_tag(machine)
            refs_of |= {ref for ref in wanted if ref.rsplit(":", 1)[-1] == tag}
        for ref in refs_of & wanted:
            found.setdefault(ref, []).append(name)
    return found


def machine_context_prepare(machine: Machine) -> None:
    """Check a newly uploaded build context (a tar) and store it in its deterministic form."""
    upload = machine.build_context
    if not upload or getattr(upload, "_committed", True):
        return
    upload.seek(0)
    data = upload.read(settings.RANGEX_MAX_BUILD_CONTEXT_BYTES + 1)
    if len(data) > settings.RANGEX_MAX_BUILD_CONTEXT_BYTES:
        limit = settings.RANGEX_MAX_BUILD_CONTEXT_BYTES // (1024 * 1024)
        raise ValidationFailed(
            _("The build context is larger than %(limit)s MB.") % {"limit": limit},
            fields={"build_context": [_("At most %(limit)s MB.") % {"limit": limit}]},
        )
    try:
        files = read_context_tar(data, where=f"The build context of machine {machine.name}")
    except ValidationFailed as exc:
        raise ValidationFailed(exc.message, fields={"build_context": [exc.message]}) from None
    machine_context_set(machine, files)


def version_machine_tools(version: ScenarioVersion) -> dict[str, list[str]]:
    """Return machine name -> the names of the catalogue tools built into its image."""
    machines = version.machines.select_related("image_variant").prefetch_related("tools")
    found = {}
    for machine in machines:
        picked = [t.name for t in machine.tools.all() if t.is_active]
        if not picked:
            continue
        named = getattr(machine.image_variant, "included_tools", None) or []
        extra = Tool.objects.filter(name__in=[n for n in named if isinstance(n, str)], is_active=True)
        found[machine.name] = sorted({*picked, *extra.values_list("name", flat=True)})
    return found
