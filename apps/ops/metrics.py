"""``/metrics``: RangeX's numbers for Prometheus, through prometheus-client.

Multi-process: daphne, the worker and beat are separate processes, and a scrape reaches only the web
process. So every number that another process produces is read from the database (or the broker,
or the heartbeats in the cache) at scrape time by ``RangexCollector``: launches and failures from the
session rows, answers and solves from the audit log (never purged), alerts from the alert log's
ever-growing id. Those counters are exact whichever process did the work, survive restarts, and need
no shared files. The launch-time histogram is built the same way from every session's start and
running times, so its buckets only ever grow and ``rate()`` works (it is not a sliding window).
Only terminal-open time is measured in-process (``rangex.core.metrics``); with several web
processes set ``PROMETHEUS_MULTIPROC_DIR`` and they are summed.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
from datetime import timedelta

from django.conf import settings
from django.db.models import Case, CharField, Count, DurationField, ExpressionWrapper, F, Max, Q, Sum, Value, When
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

from apps.environments.models import ENDED_STATUSES, EnvironmentSession, SessionStatus
from apps.ops.models import AlertLog, HealthCheck
from apps.ops.selectors_dashboard import cost_today_rm, live_container_count, sessions_by_status
from apps.ops.status import EXIT_CODES, platform_status_report
from rangex.core.audit_actions import AuditAction
from rangex.core.heartbeats import BEAT, WORKER, heartbeat_age
from rangex.core.models import AuditLog

logger = logging.getLogger(__name__)

LAUNCH_BUCKETS = (5, 10, 20, 30, 60, 120, 300, 600)
# Why a session failed, from the reason the services write (a few labels, never free text).
FAILURE_REASONS = (
    ("start_timeout", "The lab did not start within"),
    ("internal_error", "The lab could not start because of an internal error"),
    ("launch_error", "The lab could not start"),
    ("machines_lost", "The lab's machines disappeared"),
)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _launch_histogram() -> HistogramMetricFamily:
    started = EnvironmentSession.objects.filter(started_at__isnull=False)
    buckets = {
        f"le_{le}": Count("id", filter=Q(started_at__lte=F("created_at") + timedelta(seconds=le)))
        for le in LAUNCH_BUCKETS
    }
    row = started.aggregate(
        total=Count("id"),
        seconds=Sum(ExpressionWrapper(F("started_at") - F("created_at"), output_field=DurationField())),
        **buckets,
    )
    histogram = HistogramMetricFamily(
        "rangex_launch_duration_seconds", "Time from a lab's start request until it runs, every session ever started."
    )
    histogram.add_metric(
        [],
        [(str(float(le)), row[f"le_{le}"]) for le in LAUNCH_BUCKETS] + [("+Inf", row["total"])],
        sum_value=row["seconds"].total_seconds() if row["seconds"] else 0.0,
    )
    return histogram


def _failures() -> CounterMetricFamily:
    reason = Case(
        *[When(reason_stopped__startswith=prefix, then=Value(label)) for label, prefix in FAILURE_REASONS],
        default=Value("other"),
        output_field=CharField(),
    )
    rows = (
        EnvironmentSession.objects.filter(status__in=[SessionStatus.FAILED, SessionStatus.ERROR])
        .annotate(reason=reason)
        .values("reason")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts = {label: 0 for label, _ in FAILURE_REASONS} | {"other": 0}
    counts.update({row["reason"]: row["n"] for row in rows})
    family = CounterMetricFamily("rangex_session_failures", "Sessions that failed, by reason.", labels=["reason"])
    for label, n in sorted(counts.items()):
        family.add_metric([label], n)
    return family


def _answers() -> list:
    rows = (
        AuditLog.objects.filter(action_type__in=[AuditAction.SESSION_ANSWER, AuditAction.EVENT_ANSWER])
        .values("action_type", "details__correct")
        .annotate(n=Count("id"))
        .order_by()
    )
    answers = CounterMetricFamily(
        "rangex_answers", "Answers submitted, by where and whether correct.", labels=["kind", "correct"]
    )
    counts = {}
    for row in rows:
        kind = "event" if row["action_type"] == AuditAction.EVENT_ANSWER else "lab"
        key = (kind, "true" if row["details__correct"] in (True, "true", 1) else "false")
        counts[key] = counts.get(key, 0) + row["n"]
    for kind in ("lab", "event"):
        for correct in ("true", "false"):
            answers.add_metric([kind, correct], counts.get((kind, correct), 0))
    solves = CounterMetricFamily("rangex_solves", "Labs completed (every question answered or out of attempts).")
    solves.add_metric([], EnvironmentSession.objects.filter(completed_at__isnull=False).count())
    return [answers, solves]


class RangexCollector:
    """Read RangeX's counters, histograms and gauges from where every process records them."""

    def describe(self):
        # Nothing to check at registration: collect() reads the database, which only a scrape should do.
        return []

    def collect(self):
        launches = CounterMetricFamily("rangex_session_launches", "Lab sessions requested (every session row).")
        launches.add_metric([], EnvironmentSession.objects.count())
        yield launches
        yield _failures()
        yield from _answers()
        alerts = CounterMetricFamily("rangex_alerts", "Alert deliveries recorded (one per recipient and channel).")
        alerts.add_metric([], AlertLog.objects.aggregate(n=Max("id"))["n"] or 0)
        yield alerts
        yield _launch_histogram()
        yield from self._gauges()

    def _gauges(self):
        by_state = sessions_by_status()
        sessions = GaugeMetricFamily("rangex_sessions", "Sessions by state.", labels=["state"])
        for state in SessionStatus.values:
            if state not in ENDED_STATUSES:
                sessions.add_metric([state], by_state.get(state, 0))
        yield sessions
        yield GaugeMetricFamily(
            "rangex_containers", "Containers of live sessions that are running.", value=live_container_count()
        )
        yield GaugeMetricFamily("rangex_cost_today_rm", "Estimated cost of today, in RM.", value=float(cost_today_rm()))
        yield self._queue_depth()
        report = platform_status_report()
        components = report["components"]
        status = GaugeMetricFamily(
            "rangex_component_status", "State of each part: 0 ok, 1 degraded, 2 down.", labels=["component"]
        )
        for name, component in components.items():
            if component["status"] != "skipped":
                status.add_metric([name], EXIT_CODES[component["status"]])
        yield status
        yield GaugeMetricFamily("rangex_status", "The platform: 0 ok, 1 degraded, 2 down.", value=report["exit_code"])
        yield GaugeMetricFamily(
            "rangex_engine_up", "1 when the lab engine answers.", value=int(components["engine"]["status"] == "ok")
        )
        up = GaugeMetricFamily(
            "rangex_process_up", "1 when the process heartbeats (skipped when not separate).", labels=["process"]
        )
        age = GaugeMetricFamily(
            "rangex_process_heartbeat_age_seconds", "Seconds since the last heartbeat.", labels=["process"]
        )
        for name in (WORKER, BEAT):
            up.add_metric([name], int(components[name]["status"] in ("ok", "skipped")))
            seconds = heartbeat_age(name)
            if seconds is not None:
                age.add_metric([name], seconds)
        yield up
        yield age
        budget = components["budget"]
        yield GaugeMetricFamily(
            "rangex_month_cost_usd", "This month's cost, in USD.", value=float(budget.get("month_usd") or 0)
        )
        if budget.get("cap_usd"):
            yield GaugeMetricFamily(
                "rangex_budget_cap_usd", "The global monthly cap, in USD.", value=float(budget["cap_usd"])
            )
            yield GaugeMetricFamily(
                "rangex_budget_used_ratio",
                "This month's cost over the cap (1 = the cap is reached; not capped at 1).",
                value=float(budget["month_usd"]) / float(budget["cap_usd"]),
            )
        yield self._sweep()

    def _queue_depth(self):
        gauge = GaugeMetricFamily("rangex_queue_depth", "Tasks waiting in the broker's queue.", labels=["queue"])
        url = settings.CELERY_BROKER_URL
        if url.startswith("memory://"):
            return gauge
        from kombu import Connection
        from kombu.exceptions import ChannelError

        try:
            options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
            with Connection(url, transport_options=options, connect_timeout=3) as broker:
                try:
                    _, depth, _ = broker.default_channel.queue_declare(queue="celery", passive=True)
                except ChannelError:
                    # Nobody declared the queue yet (no worker ever started, nothing sent): nothing waits.
                    depth = 0
            gauge.add_metric(["celery"], depth)
        except Exception as exc:
            logger.warning("metrics: queue depth unreadable: %s: %s", type(exc).__name__, exc)
        return gauge

    def _sweep(self):
        sweep = (
            HealthCheck.objects.filter(check_type=HealthCheck.CheckType.ORPHANS).order_by("-checked_at", "-id").first()
        )
        details = sweep.details if sweep else {}
        gauge = GaugeMetricFamily("rangex_sweep_last", "Results of the last orphan sweep.", labels=["result"])
        for key in ("orphans_found", "orphans_removed", "sessions_failed"):
            gauge.add_metric([key], details.get(key, 0))
        gauge.add_metric(["ok"], int(bool(sweep) and sweep.status != HealthCheck.Status.FAILED))
        return gauge


_collector = RangexCollector()
_registered = False


def metrics_registry():
    """Return the registry to serve: this process's (or every web process's) metrics and RangeX's collector."""
    global _registered
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        registry.register(_collector)
        return registry
    if not _registered:
        REGISTRY.register(_collector)
        _registered = True
    return REGISTRY


def metrics_text() -> bytes:
    """Return the metrics page in Prometheus' text format."""
    return generate_latest(metrics_registry())


def _is_loopback(address: str | None) -> bool:
    try:
        return bool(address) and ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def metrics_access_allowed(request) -> bool:
    """Whether ``request`` may read ``/metrics`` (see the README, "Metrics").

    With ``RANGEX_METRICS_TOKEN`` set, a scraper sends ``Authorization: Bearer <token>``. Without a
    token, only a direct connection from this host (loopback, no proxy in between) may scrape.
    Signed-in platform admins may always look.
    """
    if not settings.RANGEX_METRICS_ENABLED:
        return False
    token = settings.RANGEX_METRICS_TOKEN
    if token:
        header = request.headers.get("Authorization", "")
        if hmac.compare_digest(header.encode(), f"Bearer {token}".encode()):
            return True
    elif _is_loopback(request.META.get("REMOTE_ADDR")) and "HTTP_X_FORWARDED_FOR" not in request.META:
        return True
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated and user.is_platform_admin)
