"""Benchmark the image pipeline's engine calls against the plain docker CLI, side by side in one run.

    python bench/image_pipeline.py [--runs 5]

Each run builds a fresh context (busybox base, a COPY of a 1 MB file with random bytes and a RUN
step, as a tool install is) and pushes it to a local Debian docker-registry on 127.0.0.1, once
through ``ImageEngine`` (build from a tar in memory, push with the streamed API) and once through
``docker build -`` and ``docker push``, alternating. It also times what an unchanged context costs
the pipeline (the content hash of its tar) against a cached ``docker build``. Prints p50 of each and
the ratio engine / CLI (below 1 is faster). Images are tagged ``rxbench-...`` and removed after.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rangex.settings_test")

import django

django.setup()

from apps.images.pipeline import content_tag  # noqa: E402
from apps.runtime.images import ImageEngine  # noqa: E402
from apps.scenarios.image_builds import context_tar  # noqa: E402

BASE = "rangex/busybox:latest"


def open_registry() -> tuple[subprocess.Popen, str, Path]:
    """Start docker-registry on a free loopback port without auth (the CLI then needs no login)."""
    folder = Path(tempfile.mkdtemp(prefix="rxbench-registry-"))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    (folder / "config.yml").write_text(
        "version: 0.1\nlog: {level: error, accesslog: {disabled: true}}\n"
        f"storage: {{filesystem: {{rootdirectory: {folder / 'data'}}}}}\nhttp: {{addr: '127.0.0.1:{port}'}}\n"
    )
    process = subprocess.Popen(["docker-registry", "serve", str(folder / "config.yml")], stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=1).close()
            break
        except (urllib.error.URLError, OSError):
            time.sleep(0.05)
    return process, f"127.0.0.1:{port}", folder


def context(marker: str) -> dict[str, bytes]:
    return {
        "Dockerfile": f"FROM {BASE}\nCOPY blob /srv/blob\nRUN mkdir -p /opt/tools && echo {marker} > /opt/x\n".encode(),
        "blob": os.urandom(1024 * 1024),
    }


def cli_build(ref: str, data: bytes) -> None:
    subprocess.run(["docker", "build", "-q", "-t", ref, "-"], input=data, check=True, capture_output=True)


def p50(values: list[float]) -> float:
    return statistics.median(values)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    engine = ImageEngine(instance=f"rxbench{os.getpid()}")
    process, registry, folder = open_registry()
    times: dict[str, list[float]] = {k: [] for k in ("engine build", "cli build", "engine push", "cli push")}
    unchanged: dict[str, list[float]] = {"pipeline hash": [], "cli cached build": []}
    made: list[str] = []
    try:
        for run in range(args.runs):
            for side in ("engine", "cli") if run % 2 == 0 else ("cli", "engine"):
                marker = uuid.uuid4().hex[:12]
                files = context(marker)
                data = context_tar(files)
                ref = f"{registry}/rxbench/{side}:{marker}"
                made.append(ref)
                started = time.perf_counter()
                if side == "engine":
                    engine.build(data, ref=ref)
                else:
                    cli_build(ref, data)
                times[f"{side} build"].append(time.perf_counter() - started)
                started = time.perf_counter()
                if side == "engine":
                    engine.push(ref)
                else:
                    subprocess.run(["docker", "push", ref], check=True, capture_output=True)
                times[f"{side} push"].append(time.perf_counter() - started)
                if side == "cli":
                    started = time.perf_counter()
                    cli_build(ref, data)
                    unchanged["cli cached build"].append(time.perf_counter() - started)
                else:
                    started = time.perf_counter()
                    # What the pipeline does for an unchanged context: re-make the tar, hash it, find the tag.
                    content_tag(context_tar(files))
                    unchanged["pipeline hash"].append(time.perf_counter() - started)
    finally:
        for ref in made:
            subprocess.run(["docker", "image", "rm", "-f", ref], capture_output=True)
        process.terminate()
        process.wait(10)
        shutil.rmtree(folder, ignore_errors=True)
    for step in ("build", "push"):
        engine_p50, cli_p50 = p50(times[f"engine {step}"]), p50(times[f"cli {step}"])
        print(f"{step:6} p50: engine {engine_p50:.3f} s, docker CLI {cli_p50:.3f} s, ratio {engine_p50 / cli_p50:.2f}")
    hashed, cached = p50(unchanged["pipeline hash"]), p50(unchanged["cli cached build"])
    print(f"unchanged context: pipeline hash {hashed * 1000:.1f} ms, cached docker build {cached * 1000:.0f} ms, "
          f"ratio {hashed / cached:.3f}")  # fmt: skip


if __name__ == "__main__":
    main()
