"""Turn a scenario version into the runtime's launch specification.

This is the one place that knows how machines, pivot points, resource profiles, image security
settings, assets and dynamic flags become containers, networks and files.
"""

from __future__ import annotations

from django.utils.crypto import salted_hmac

from apps.environments.models import EnvironmentSession
from apps.images.profiles import profile_limits
from apps.scenarios.compose import networks_of
from apps.scenarios.grading import dynamic_flag

NETWORK_EGRESS_INTERNET = "internet"
# Desktops (image variants with has_gui): TigerVNC's port on the machine's loopback, and the file of
# its passwords the desktop image reads at start (deploy/images/desktop/rangex-desktop).
DESKTOP_PORT = 5901
VNC_SECRETS_PATH = "/etc/rangex/vnc-passwords"  # the image reads it at start (deploy/images/desktop)


def desktop_passwords(*, session_id, machine: str) -> tuple[str, str]:
    """Return (full control, view only) VNC passwords of one machine of one session (8 characters each:
    VNC authentication uses no more)."""

    def one(kind: str) -> str:
        return salted_hmac("rangex.desktop.vnc", f"{session_id}:{machine}:{kind}", algorithm="sha256").hexdigest()[:8]

    return one("control"), one("view")


def desktop_password_file(*, session_id, machine: str):
    """Return the ``FileSpec`` the desktop image turns into TigerVNC's password file at start."""
    from apps.runtime import FileSpec

    control, view = desktop_passwords(session_id=session_id, machine=machine)
    return FileSpec(path=VNC_SECRETS_PATH, content=f"{control}\n{view}\n".encode(), mode=0o600)


def machine_image(machine) -> tuple[str, object | None]:
    """Return the image reference of ``machine`` and the image row that carries its security settings.

    A machine built by the image pipeline (a build context, or catalogue tools) runs its built image.
    """
    from apps.scenarios.image_builds import machine_built_image

    built = machine_built_image(machine)
    if built is not None:
        source = machine.image_variant if machine.image_source_type == "variant" else None
        source = machine.platform_image if machine.image_source_type == "platform" else source
        return built, source
    if machine.image_source_type == "variant" and machine.image_variant_id:
        return machine.image_variant.image_ref, machine.image_variant
    if machine.image_source_type == "platform" and machine.platform_image_id:
        return machine.platform_image.image_ref, machine.platform_image
    return machine.image_ref, None


def machine_has_gui(machine) -> bool:
    """Return True when the machine's image is a desktop (its image variant has ``has_gui``)."""
    _, source = machine_image(machine)
    return bool(getattr(source, "has_gui", False))


def machine_resources(machine) -> tuple[float, int]:
    """Return the CPUs and memory (MB) a machine gets: its own values, else its resource profile's."""
    limits = profile_limits(machine.resource_profile)
    return float(machine.cpu_cores or limits.cpus), int(machine.memory_mb or limits.memory_mb)


def machine_accounts(machine) -> list:
    """Return the logins the machine row asks for: its SSH user with its password, set before the machine starts."""
    from apps.runtime import AccountSpec

    if not machine.ssh_username:
        return []
    return [AccountSpec(username=machine.ssh_username, password=machine.ssh_password or "")]


def registry_auth_for(image: str, credentials) -> object | None:
    """Return the RegistryAuth of the first active credential for the registry ``image`` comes from."""
    from apps.runtime import RegistryAuth, image_registry, normalize_registry

    registry = image_registry(image)
    for credential in credentials:
        if normalize_registry(credential.registry_url) == registry:
            return RegistryAuth(
                registry=registry, username=credential.username_enc, password=credential.password_or_token_enc
            )
    return None


def machine_networks(machine, pivot_points) -> list[str]:
    """Return the network groups of ``machine``: its own, plus every group a pivot host bridges to."""
    return networks_of(machine, pivot_points)


def is_dynamic_flag(question: dict) -> bool:
    return question.get("type") == "flag" and bool(question.get("dynamic"))


def session_flag(*, session_id, question_id: str) -> str:
    """Return the flag of one dynamic-flag question in one session (an HMAC under the server key)."""
    from django.conf import settings

    return dynamic_flag(secret=settings.RANGEX_FLAG_SECRET, session_id=str(session_id), question_id=question_id)


def session_flags(session: EnvironmentSession) -> dict[str, str]:
    """Return ``{question id: flag}`` for the dynamic flags of this session."""
    return version_flags(session.scenario_version, session_id=session.id)


def version_flags(version, *, session_id) -> dict[str, str]:
    """Return ``{question id: flag}`` for the dynamic flags of ``version`` in the session ``session_id``."""
    return {
        q["id"]: session_flag(session_id=session_id, question_id=q["id"])
        for q in version.questions or []
        if is_dynamic_flag(q)
    }


def machine_ready_check(machine):
    """Return the runtime's ``ReadyCheck`` for a machine row (its own, else its image variant's), or None."""
    from apps.runtime import ReadyCheck

    raw = machine.ready_check or getattr(machine.image_variant, "default_healthcheck", None) or {}
    if not isinstance(raw, dict) or (raw.get("port") is None and not raw.get("command")):
        return None
    command = raw.get("command") or ()
    if isinstance(command, str):
        command = ("sh", "-c", command)
    return ReadyCheck(
        command=tuple(str(c) for c in command) if raw.get("port") is None else (),
        port=raw.get("port"),
        timeout=float(raw.get("timeout", 60)),
    )


def build_launch_spec(session: EnvironmentSession):
    """Return the ``LaunchSpec`` of ``session``; reads asset files from storage."""
    return launch_spec_for(
        session.scenario_version,
        session_id=session.id,
        expires_at=session.expires_at,
        user_label=str(session.user_id),
        allow_unapproved=session.is_test,
    )


def launch_spec_for(version, *, session_id, expires_at, user_label: str, allow_unapproved: bool = False):
    """Return the ``LaunchSpec`` of ``version`` launched as the session ``session_id``.

    A session's spec, or a warm pool's parked environment: it is launched under the id that the
    session claiming it will get, so its per-session files (the dynamic flags) are already that
    session's own.
    """
    from apps.images.models import RegistryCredential
    from apps.runtime import FileSpec, LaunchSpec, MachineSpec, NetworkSpec, RuntimeFailure
    from apps.scenarios.image_builds import machine_built_image_problem
    from apps.scenarios.library import asset_read
    from apps.scenarios.models import AssetType
    from rangex.core.system import get_settings

    conf = get_settings()
    credentials = list(RegistryCredential.objects.filter(is_active=True).order_by("created_at"))
    machines = list(version.machines.select_related("image_variant", "platform_image").prefetch_related("assets"))
    pivot_points = list(version.pivot_points.all())
    flags = version_flags(version, session_id=session_id)
    flag_files: dict[str, list] = {}
    for question in version.questions or []:
        if question["id"] in flags and question.get("flag_machine"):
            flag_files.setdefault(question["flag_machine"], []).append(
                FileSpec(path=question["flag_path"], content=(flags[question["id"]] + "\n").encode(), mode=0o444)
            )

    library_files: dict = {}
    for link in version.asset_links.filter(
        asset_type=AssetType.MACHINE_FILE, asset__deleted_from_minio=False
    ).select_related("asset"):
        library_files.setdefault(link.machine_id, []).append(link)

    egress_groups: set[str] = set()
    specs = []
    for machine in machines:
        problem = machine_built_image_problem(machine, allow_unapproved=allow_unapproved)
        if problem:
            raise RuntimeFailure(problem, permanent=True)
        image, source = machine_image(machine)
        limits = profile_limits(machine.resource_profile)
        cpus, memory_mb = machine_resources(machine)
        if machine.network_egress_policy == NETWORK_EGRESS_INTERNET:
            egress_groups.add(machine.network_group)
        files = [
            FileSpec(path=asset.target_path, content=_read(asset.file), mode=int(asset.permissions, 8))
            for asset in machine.assets.all()
            if asset.target_path
        ]
        files.extend(
            FileSpec(path=link.target_path, content=asset_read(link.asset), mode=int(link.permissions, 8))
            for link in library_files.get(machine.pk, [])
        )
        files.extend(flag_files.get(machine.name, []))
        if machine_has_gui(machine):
            files.append(desktop_password_file(session_id=session_id, machine=machine.name))
        specs.append(
            MachineSpec(
                name=machine.name,
                hostname=machine.name,
                image=image,
                role=machine.role,
                networks=machine_networks(machine, pivot_points),
                cpus=cpus,
                memory_mb=memory_mb,
                pids_limit=limits.pids_limit,
                env={str(k): str(v) for k, v in (machine.environment_vars or {}).items()},
                command=list(machine.entrypoints) or None,
                cap_add=list(
                    dict.fromkeys([*(getattr(source, "allowed_capabilities", []) or []), *(machine.capabilities or [])])
                ),
                no_new_privileges=getattr(source, "no_new_privileges", True),
                user=machine.run_as_user or getattr(source, "terminal_user", "root") or "root",
                files=files,
                accounts=machine_accounts(machine),
                registry_auth=registry_auth_for(image, credentials),
                pull_from_hub=conf.docker_enable_pull_from_hub,
                ready_check=machine_ready_check(machine),
                read_only_root=machine.read_only_root,
            )
        )
    groups = sorted({g for spec in specs for g in spec.networks})
    return LaunchSpec(
        session_id=str(session_id),
        machines=specs,
        networks=[NetworkSpec(name=g, egress=g in egress_groups) for g in groups],
        expires_at=expires_at,
        labels={"rangex.user": user_label, "rangex.version": str(version.id)},
    )


def _read(field_file) -> bytes:
    with field_file.open("rb") as handle:
        return handle.read()
