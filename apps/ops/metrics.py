"""The Prometheus text exposition of RangeX's operational numbers (no client library needed)."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import DurationField, ExpressionWrapper, F
from django.utils import timezone

from apps.environments.models import EnvironmentSession, SessionStatus
from apps.ops.models import HealthCheck
from apps.ops.selectors_dashboard import cost_today_rm, live_container_count, sessions_by_status

LAUNCH_BUCKETS = (5, 10, 20, 30, 60, 120, 300)


def metrics_text(now=None) -> str:
    """Return the metrics page: sessions by state, containers, launch durations, cost today, sweep results."""
    now = now or timezone.now()
    lines = ["# HELP rangex_sessions Sessions by state.", "# TYPE rangex_sessions gauge"]
    by_status = sessions_by_status()
    for status in SessionStatus.values:
        lines.append(f'rangex_sessions{{state="{status}"}} {by_status.get(status, 0)}')
    lines += [
        "# HELP rangex_containers Containers of live sessions that are running.",
        "# TYPE rangex_containers gauge",
        f"rangex_containers {live_container_count()}",
        "# HELP rangex_cost_today_rm Estimated cost of today, in RM.",
        "# TYPE rangex_cost_today_rm gauge",
        f"rangex_cost_today_rm {cost_today_rm(now)}",
    ]
    durations = (
        EnvironmentSession.objects.filter(started_at__gte=now - timedelta(days=1))
        .annotate(d=ExpressionWrapper(F("started_at") - F("created_at"), output_field=DurationField()))
        .values_list("d", flat=True)
    )
    seconds = [d.total_seconds() for d in durations if d is not None]
    lines += [
        "# HELP rangex_launch_duration_seconds Time from start request to running, sessions of the last 24 hours.",
        "# TYPE rangex_launch_duration_seconds histogram",
    ]
    for bucket in LAUNCH_BUCKETS:
        lines.append(f'rangex_launch_duration_seconds_bucket{{le="{bucket}"}} {sum(1 for s in seconds if s <= bucket)}')
    lines += [
        f'rangex_launch_duration_seconds_bucket{{le="+Inf"}} {len(seconds)}',
        f"rangex_launch_duration_seconds_sum {sum(seconds):.3f}",
        f"rangex_launch_duration_seconds_count {len(seconds)}",
    ]
    sweep = HealthCheck.objects.filter(check_type=HealthCheck.CheckType.ORPHANS).order_by("-checked_at", "-id").first()
    details = sweep.details if sweep else {}
    lines += [
        "# HELP rangex_sweep_last Results of the last orphan sweep.",
        "# TYPE rangex_sweep_last gauge",
        f'rangex_sweep_last{{result="orphans_found"}} {details.get("orphans_found", 0)}',
        f'rangex_sweep_last{{result="orphans_removed"}} {details.get("orphans_removed", 0)}',
        f'rangex_sweep_last{{result="sessions_failed"}} {details.get("sessions_failed", 0)}',
        f'rangex_sweep_last{{result="ok"}} {int(bool(sweep) and sweep.status != HealthCheck.Status.FAILED)}',
    ]
    return "\n".join(lines) + "\n"
