"""Runtime health checks, each recorded in ``aws_config_checks``, with safe auto-heals."""

from __future__ import annotations

import os
import shutil
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from apps.environments import services as env_services
from apps.environments.models import EnvironmentSession, SessionStatus
from apps.ops import recovery
from apps.ops.health_alerts import health_alerts_send
from apps.ops.models import HealthCheck, InterfaceEndpoint

STUCK_STARTING_MINUTES = 15
DISK_WARNING_FREE = 0.10
DISK_FAILED_FREE = 0.05


def _record(check_type, service, status, message, **extra) -> HealthCheck:
    return HealthCheck.objects.create(
        check_type=check_type, service_name=service, status=status, message=message, **extra
    )


def required_images() -> set[str]:
    """Return the image references the published versions need."""
    from apps.environments.launch import machine_image
    from apps.scenarios.models import Machine, VersionStatus

    machines = Machine.objects.filter(scenario_version__status=VersionStatus.PUBLISHED).select_related(
        "image_variant", "platform_image"
    )
    return {ref for ref in (machine_image(m)[0] for m in machines) if ref}


def health_check_run(*, now=None, stuck_minutes: int = STUCK_STARTING_MINUTES) -> list[HealthCheck]:
    """Run every check, the engine ones once per configured runtime; return the recorded rows.

    Alert the admins about failures.
    """
    from apps.runtime import RuntimeFailure, configured_runtimes, get_runtime

    now = now or timezone.now()
    checks: list[HealthCheck] = []
    for key in configured_runtimes():
        try:
            runtime = get_runtime(key)
            ping = runtime.ping()
        except RuntimeFailure as exc:
            runtime, ping = None, {"ok": False, "key": key, "error": exc.message}
        engine_ok = bool(ping.get("ok"))
        checks.append(
            _record(
                HealthCheck.CheckType.ENGINE,
                key,
                HealthCheck.Status.OK if engine_ok else HealthCheck.Status.FAILED,
                f"Runtime {key!r} answers."
                if engine_ok
                else f"Runtime {key!r} is unreachable: {ping.get('error', '')}",
                details=ping,
            )
        )
        if runtime is not None:
            checks.extend(_config_checks(runtime))
        if runtime is not None and engine_ok:
            checks.extend(_engine_checks(runtime))
            # A lab stopped behind our back is noticed here too, not only by the sweep.
            checks.append(recovery.record_lab_machines(key, recovery.lab_machines_check(runtime, now=now)))

    path = str(getattr(settings, "VAR_DIR", "/"))
    if not os.path.exists(path):
        path = "/"
    usage = shutil.disk_usage(path)
    free = usage.free / usage.total if usage.total else 1.0
    status = (
        HealthCheck.Status.FAILED
        if free < DISK_FAILED_FREE
        else HealthCheck.Status.WARNING
        if free < DISK_WARNING_FREE
        else HealthCheck.Status.OK
    )
    checks.append(
        _record(
            HealthCheck.CheckType.DISK,
            "local-disk",
            status,
            f"{free:.0%} free on {path}.",
            details={"path": path, "free_bytes": usage.free, "total_bytes": usage.total},
        )
    )

    checks.append(_storage_check())
    checks.append(_heal_stuck_starting(now=now, stuck_minutes=stuck_minutes))
    health_alerts_send(checks)
    return checks


def _storage_check() -> HealthCheck:
    """Where assets are stored answers: the bucket on S3/MinIO, the media folder locally."""
    from rangex.core.storage import storage_health

    ok, detail = storage_health()
    status = HealthCheck.Status.OK if ok else HealthCheck.Status.FAILED
    message = f"Asset storage answers: {detail}." if ok else f"Asset storage fails: {detail}"
    return _record(HealthCheck.CheckType.OBJECT_STORAGE, "asset-storage", status, message, details={"detail": detail})


def _config_checks(runtime) -> list[HealthCheck]:
    """Record a backend's set-up checks (cluster, subnets, role, registry, endpoints on AWS)."""
    endpoints = list(
        InterfaceEndpoint.objects.filter(type=InterfaceEndpoint.Type.INTERFACE).values_list("value", flat=True)
    )
    statuses = {True: HealthCheck.Status.OK, False: HealthCheck.Status.FAILED, None: HealthCheck.Status.WARNING}
    return [
        _record(
            HealthCheck.CheckType.AWS_CONFIG,
            f"{runtime.key}:{item['name']}",
            statuses[item["ok"]],
            item["message"],
            details=item.get("details") or {},
        )
        for item in runtime.config_checks(endpoints=endpoints)
    ]


def _engine_checks(runtime) -> list[HealthCheck]:
    """Check what one reachable runtime needs: the published versions' images, and host isolation."""
    from apps.runtime import RuntimeFailure

    missing = []
    try:
        missing = sorted(ref for ref in required_images() if not runtime.image_present(ref))
        status = HealthCheck.Status.WARNING if missing else HealthCheck.Status.OK
        message = f"Missing images: {', '.join(missing)}" if missing else "Every required image is present."
    except RuntimeFailure as exc:
        status, message = HealthCheck.Status.FAILED, exc.message
    images = _record(HealthCheck.CheckType.IMAGES, runtime.key, status, message, details={"missing": missing})
    isolation = runtime.host_isolation()
    guarded = _record(
        HealthCheck.CheckType.HOST_ISOLATION,
        runtime.key,
        {True: HealthCheck.Status.OK, False: HealthCheck.Status.FAILED}.get(
            isolation.get("ok"), HealthCheck.Status.WARNING
        ),
        isolation.get("message", ""),
        details=isolation,
    )
    return [images, guarded]


def _heal_stuck_starting(*, now, stuck_minutes: int) -> HealthCheck:
    """Fail sessions stuck in ``starting`` and remove what their launch left on their runtime."""
    from apps.runtime import RuntimeFailure, get_runtime

    stuck = list(
        EnvironmentSession.objects.filter(
            status=SessionStatus.STARTING, created_at__lte=now - timedelta(minutes=stuck_minutes)
        )
    )
    healed, cleanup_failed = [], []
    for session in stuck:
        session = env_services.env_session_mark_failed(
            session=session, reason=f"The lab did not start within {stuck_minutes} minutes."
        )
        if session.status != SessionStatus.FAILED:
            continue
        healed.append(str(session.pk))
        try:
            get_runtime(session.runtime_backend or None).stop(str(session.pk))
        except RuntimeFailure:
            cleanup_failed.append(str(session.pk))
    if not stuck:
        return _record(HealthCheck.CheckType.STUCK_SESSIONS, "sessions", HealthCheck.Status.OK, "No stuck sessions.")
    return _record(
        HealthCheck.CheckType.STUCK_SESSIONS,
        "sessions",
        HealthCheck.Status.WARNING,
        f"{len(stuck)} session(s) stuck in starting.",
        details={"sessions": healed, "cleanup_failed": cleanup_failed},
        auto_healed=bool(healed),
        heal_action=f"Marked {len(healed)} session(s) failed and removed their resources." if healed else "",
    )
