"""Metrics measured in the process where they happen (prometheus-client), for ``/metrics`` to serve.

Most of RangeX's metrics are read from the database when ``/metrics`` is scraped (``apps/ops/metrics.py``),
so what the worker does is counted wherever the scrape lands. Only a duration seen by one process and
stored nowhere is measured here: opening a terminal, which happens in the web process that also
serves ``/metrics``. With several web processes, set ``PROMETHEUS_MULTIPROC_DIR`` (prometheus-client's
multiprocess mode) and each process's measurements are summed.
"""

from __future__ import annotations

from prometheus_client import Histogram

TERMINAL_OPEN_SECONDS = Histogram(
    "rangex_terminal_open_seconds",
    "Time to open a lab terminal on the engine (web process).",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30),
)
