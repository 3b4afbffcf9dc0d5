"""Alerts about health checks: what failed and what to do, and a "resolved" message when a check recovers."""

from __future__ import annotations

from django.urls import reverse

from apps.ops.alerts import alert_send
from apps.ops.models import AlertLog, HealthCheck

NEXT_STEPS = {
    HealthCheck.CheckType.ENGINE: "Check the Docker engine (systemctl status docker; docker info) and "
    "RANGEX_DOCKER_URL; labs cannot start until it answers.",
    HealthCheck.CheckType.DISK: "Free disk space: docker system prune for unused images and build cache, "
    "old backups, and the logs under the var folder.",
    HealthCheck.CheckType.IMAGES: "Run manage.py build_images --set all to build the missing lab images.",
    HealthCheck.CheckType.STUCK_SESSIONS: "Look at the worker's log for failed launches; the stuck sessions "
    "were failed and cleaned up.",
    HealthCheck.CheckType.OVERSIZED: "Stop the sessions named in the check's details if they keep growing.",
    HealthCheck.CheckType.ORPHANS: "Run manage.py sweep_orphans and read its errors.",
    HealthCheck.CheckType.HOST_ISOLATION: "Restore the host firewall rule the check names, so labs cannot "
    "reach the host.",
}


def _previous(check: HealthCheck) -> HealthCheck | None:
    return (
        HealthCheck.objects.filter(check_type=check.check_type, id__lt=check.pk).order_by("-checked_at", "-id").first()
    )


def health_alerts_send(checks: list[HealthCheck]) -> None:
    """Alert the admins about failed checks, and say "resolved" for each check that failed last time and passes now."""
    link = reverse("admin:ops_healthcheck_changelist")
    failed = [c for c in checks if c.status == HealthCheck.Status.FAILED]
    if failed:
        alert_send(
            alert_type=AlertLog.AlertType.HEALTH,
            priority=AlertLog.Priority.HIGH,
            subject=f"{len(failed)} health check(s) failed: " + ", ".join(c.get_check_type_display() for c in failed),
            message="\n".join(f"{c.get_check_type_display()}: {c.message}" for c in failed),
            dedupe_key="health:" + ",".join(sorted(c.check_type for c in failed)),
            link=link,
            next_step=" ".join(NEXT_STEPS.get(c.check_type, "") for c in failed).strip(),
        )
    for check in checks:
        if check.status == HealthCheck.Status.FAILED:
            continue
        before = _previous(check)
        if before is None or before.status != HealthCheck.Status.FAILED:
            continue
        alert_send(
            alert_type=AlertLog.AlertType.HEALTH,
            priority=AlertLog.Priority.LOW,
            subject=f"Resolved: {check.get_check_type_display()} is {check.status} again",
            message=f"It failed at {before.checked_at:%Y-%m-%d %H:%M} UTC ({before.message}); now: {check.message}",
            metadata={"resolved": check.check_type},
            link=link,
            next_step="Nothing to do; check that the labs started while it failed are running.",
        )
