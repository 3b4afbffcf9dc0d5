"""What the terminal gateway adds to an ECS launch, on moto in-process, side by side in one run.

    python bench/ecs_launch.py [--runs 20]

Launches the demo topology (attacker, pivot on two groups, victim with a flag file) through
``EcsRuntime`` with the per-session SSH gateway (the web tier set in ``gateway_source``) and
without it (the baseline: no web tier set, so no gateway), alternating, and prints the p50/p95 of
launch and stop for each and the ratio gateway / baseline.

moto runs no containers and answers from memory, so these figures are the backend's own work and
its AWS calls (security groups and rules, task definitions, the S3 bundle, RunTask), not Fargate's
start time (tens of seconds for a task to reach RUNNING, the same for every task of a lab, since
they start in parallel).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rangex.settings_test")

import django

django.setup()

from apps.runtime import FileSpec  # noqa: E402
from apps.runtime.ecs import EcsRuntime  # noqa: E402
from apps.runtime.tests.ecs_harness import build_account, runtime_config, start_moto  # noqa: E402
from apps.runtime.tests.helpers import new_session_id, pivot_spec  # noqa: E402


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()

    start_moto()
    account = runtime_config(build_account())
    runtimes = {
        "gateway": EcsRuntime(key="ecs", config=account),
        "baseline": EcsRuntime(key="ecs", config={**account, "gateway_source": ""}),
    }
    timings: dict[str, dict[str, list[float]]] = {name: {"launch": [], "stop": []} for name in runtimes}
    flag = [FileSpec("/srv/flag.txt", b"RX{bench}\n", 0o400)]
    for run in range(args.runs + 1):  # the first round registers the task definitions: not counted
        for name in ("gateway", "baseline") if run % 2 else ("baseline", "gateway"):
            runtime = runtimes[name]
            spec = pivot_spec(new_session_id(), victim_files=flag)
            began = time.perf_counter()
            runtime.launch(spec)
            launched = time.perf_counter()
            runtime.stop(spec.session_id)
            stopped = time.perf_counter()
            if run:
                timings[name]["launch"].append(launched - began)
                timings[name]["stop"].append(stopped - launched)

    print(f"ECS on moto in-process, {args.runs} launches each, alternating (pivot topology, one flag file)")
    print(f"{'':8} {'gateway p50':>12} {'baseline p50':>13} {'ratio':>6} {'gateway p95':>12} {'baseline p95':>13}")
    for step in ("launch", "stop"):
        g, b = timings["gateway"][step], timings["baseline"][step]
        print(
            f"{step:8} {statistics.median(g):11.3f}s {statistics.median(b):12.3f}s "
            f"{statistics.median(g) / statistics.median(b):6.2f} {_percentile(g, 0.95):11.3f}s "
            f"{_percentile(b, 0.95):12.3f}s"
        )


if __name__ == "__main__":
    main()
