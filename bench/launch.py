"""Benchmark DockerRuntime against the plain docker CLI, side by side in one run.

    python bench/launch.py [--runs 10] [--image rangex/busybox:latest]

1. Launch: the demo-like topology (attacker on outer, pivot on outer+inner, victim on inner with a
   flag file) through DockerRuntime.launch and through the equivalent docker CLI sequence,
   alternating, then p50/p95 of each and the ratio (runtime / CLI).
2. Terminal: keystroke-to-echo round trip and the throughput of `cat` of a 20 MB file, through
   DockerRuntime.open_terminal and through `docker exec -it` on a local pty.
"""

from __future__ import annotations

import argparse
import io
import os
import pty
import select
import statistics
import subprocess
import sys
import tarfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rangex.settings_test")

import django

django.setup()

from apps.runtime import FileSpec, LaunchSpec, MachineSpec, NetworkSpec  # noqa: E402
from apps.runtime.docker import DockerRuntime  # noqa: E402

BIG_FILE_BYTES = 20 * 1024 * 1024
LISTEN = ["sh", "-c", "while true; do nc -l -p 80 </dev/null >/dev/null 2>&1; done"]
FLAG = b"RX{benchmark-flag-0123456789abcdef}"


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def spec_for(session_id: str, image: str) -> LaunchSpec:
    common = {"command": LISTEN, "cpus": 0.5, "memory_mb": 128, "pids_limit": 128}
    return LaunchSpec(
        session_id=session_id,
        networks=[NetworkSpec("outer"), NetworkSpec("inner")],
        machines=[
            MachineSpec("attacker", image, role="attacker", networks=["outer"], **common),
            MachineSpec("pivot", image, role="service", networks=["outer", "inner"], **common),
            MachineSpec("victim", image, networks=["inner"], files=[FileSpec("/srv/flag.txt", FLAG, 0o640)], **common),
        ],
        expires_at=datetime.now(UTC) + timedelta(hours=1),
    )


def run(*argv: str, stdin: bytes | None = None) -> str:
    return subprocess.run(argv, input=stdin, capture_output=True, check=True).stdout.decode()


def cli_launch(prefix: str, image: str) -> None:
    """Launch the same topology the way a shell script would, one docker command at a time."""
    for net in ("outer", "inner"):
        run(
            "docker", "network", "create", "--driver", "bridge", "--internal",
            "-o", "com.docker.network.bridge.inhibit_ipv4=true", "--label", f"rxbench={prefix}", f"{prefix}-{net}",
        )  # fmt: skip
    machines = {"attacker": ["outer"], "pivot": ["outer", "inner"], "victim": ["inner"]}
    for name, nets in machines.items():
        run(
            "docker", "create", "--name", f"{prefix}-{name}", "--hostname", name,
            "--network", f"{prefix}-{nets[0]}", "--network-alias", name,
            "--cap-drop", "ALL", "--security-opt", "no-new-privileges:true", "--pids-limit", "128",
            "--memory", "128m", "--memory-swap", "128m", "--cpus", "0.5", "--init",
            "--log-opt", "max-size=1m", "--label", f"rxbench={prefix}", image, *LISTEN,
        )  # fmt: skip
        for extra in nets[1:]:
            run("docker", "network", "connect", "--alias", name, f"{prefix}-{extra}", f"{prefix}-{name}")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        folder = tarfile.TarInfo("srv")
        folder.type, folder.mode = tarfile.DIRTYPE, 0o755
        tar.addfile(folder)
        info = tarfile.TarInfo("srv/flag.txt")
        info.size, info.mode = len(FLAG), 0o640
        tar.addfile(info, io.BytesIO(FLAG))
    run("docker", "cp", "-", f"{prefix}-victim:/", stdin=buffer.getvalue())
    run("docker", "start", *(f"{prefix}-{name}" for name in machines))
    run("docker", "inspect", *(f"{prefix}-{name}" for name in machines))


def cli_stop(prefix: str) -> None:
    ids = run("docker", "ps", "-aq", "--filter", f"label=rxbench={prefix}").split()
    if ids:
        run("docker", "rm", "-f", *ids)
    nets = run("docker", "network", "ls", "-q", "--filter", f"label=rxbench={prefix}").split()
    if nets:
        run("docker", "network", "rm", *nets)


def bench_launch(runtime: DockerRuntime, image: str, runs: int) -> tuple[list[float], list[float]]:
    ours, theirs = [], []
    for index in range(runs):
        session_id = uuid.uuid4().hex
        started = time.perf_counter()
        runtime.launch(spec_for(session_id, image))
        ours.append(time.perf_counter() - started)
        runtime.stop(session_id)

        prefix = f"rxbench-cli-{os.getpid()}-{index}"
        try:
            started = time.perf_counter()
            cli_launch(prefix, image)
            theirs.append(time.perf_counter() - started)
        finally:
            cli_stop(prefix)
        print(f"  run {index + 1}/{runs}: runtime {ours[-1]:.2f}s, cli {theirs[-1]:.2f}s", flush=True)
    return ours, theirs


class PtyExec:
    """`docker exec -it` on a local pty, read and written like a Terminal."""

    def __init__(self, container: str):
        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen(
            ["docker", "exec", "-it", container, "sh"], stdin=slave, stdout=slave, stderr=slave, close_fds=True
        )
        os.close(slave)

    def read(self, timeout: float | None = None) -> bytes:
        ready, _, _ = select.select([self.master], [], [], timeout)
        return os.read(self.master, 65536) if ready else b""

    def write(self, data: bytes) -> None:
        os.write(self.master, data)

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()
        os.close(self.master)


def drain(term, needle: bytes, timeout: float = 60) -> int:
    deadline = time.monotonic() + timeout
    seen = b""
    total = 0
    while needle not in seen:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{needle!r} not seen")
        chunk = term.read(0.5)
        total += len(chunk)
        seen = (seen + chunk)[-4096:]
    return total


def round_trips(term, count: int) -> list[float]:
    drain(term, b"# ", timeout=10)
    times = []
    for index in range(count):
        key = b"abcdefghijklmnopqrstuvwxyz"[index % 26 : index % 26 + 1]
        started = time.perf_counter()
        term.write(key)
        drain(term, key, timeout=5)
        times.append(time.perf_counter() - started)
    term.write(b"\x15")  # Ctrl-U clears the typed line
    return times


def throughput(term) -> tuple[float, int]:
    started = time.perf_counter()
    term.write(b"cat /tmp/big; echo __E''ND__\n")
    received = drain(term, b"__END__", timeout=120)
    return time.perf_counter() - started, received


def bench_terminal(runtime: DockerRuntime, image: str, keystrokes: int) -> dict:
    session_id = uuid.uuid4().hex
    result = runtime.launch(spec_for(session_id, image))
    container = result.machines["attacker"].container_id
    try:
        subprocess.run(
            ["docker", "exec", container, "sh", "-c", f"yes 0123456789abcdef | head -c {BIG_FILE_BYTES} > /tmp/big"],
            check=True,
        )
        ours_term = runtime.open_terminal(session_id, "attacker", cols=200, rows=50)
        theirs_term = PtyExec(container)
        try:
            ours_rtt = round_trips(ours_term, keystrokes)
            theirs_rtt = round_trips(theirs_term, keystrokes)
            ours_tp = throughput(ours_term)
            theirs_tp = throughput(theirs_term)
        finally:
            ours_term.close()
            theirs_term.close()
        started = time.perf_counter()
        piped = subprocess.run(["docker", "exec", container, "cat", "/tmp/big"], capture_output=True).stdout
        pipe_seconds = time.perf_counter() - started
    finally:
        runtime.stop(session_id)
    return {
        "rtt": (ours_rtt, theirs_rtt),
        "tp": (ours_tp, theirs_tp),
        "pipe": (pipe_seconds, len(piped)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--image", default="rangex/busybox:latest")
    parser.add_argument("--keystrokes", type=int, default=200)
    args = parser.parse_args()

    runtime = DockerRuntime(base_url="", instance=f"rxbench-{os.getpid()}")
    if not runtime.image_present(args.image):
        sys.exit(f"{args.image} is missing: run `manage.py build_images --set test` first.")
    print(f"Docker {runtime.ping().get('version')}, image {args.image}, {args.runs} runs")

    print("Launch (3 machines, 2 networks, 1 file):")
    ours, theirs = bench_launch(runtime, args.image, args.runs)
    ours_p50, ours_p95 = statistics.median(ours), percentile(ours, 95)
    cli_p50, cli_p95 = statistics.median(theirs), percentile(theirs, 95)
    print(f"  DockerRuntime.launch  p50 {ours_p50:.3f}s  p95 {ours_p95:.3f}s")
    print(f"  docker CLI sequence   p50 {cli_p50:.3f}s  p95 {cli_p95:.3f}s")
    print(f"  ratio runtime/cli     p50 {ours_p50 / cli_p50:.2f}  p95 {ours_p95 / cli_p95:.2f}")

    print(f"Terminal ({args.keystrokes} keystrokes, cat of a {BIG_FILE_BYTES // 2**20} MB file):")
    found = bench_terminal(runtime, args.image, args.keystrokes)
    ours_rtt, cli_rtt = found["rtt"]
    ours_ms, cli_ms = statistics.median(ours_rtt) * 1000, statistics.median(cli_rtt) * 1000
    print(
        f"  keystroke echo p50    Terminal {ours_ms:.2f} ms   docker exec -it {cli_ms:.2f} ms   "
        f"ratio {ours_ms / cli_ms:.2f}"
    )
    (ours_s, ours_bytes), (cli_s, cli_bytes) = found["tp"]
    ours_mbs, cli_mbs = ours_bytes / ours_s / 2**20, cli_bytes / cli_s / 2**20
    print(
        f"  cat throughput        Terminal {ours_mbs:.1f} MB/s ({ours_s:.2f}s)   "
        f"docker exec -it {cli_mbs:.1f} MB/s ({cli_s:.2f}s)   ratio {ours_mbs / cli_mbs:.2f}"
    )
    pipe_s, pipe_bytes = found["pipe"]
    print(f"  (no tty) docker exec cat: {pipe_bytes / pipe_s / 2**20:.1f} MB/s ({pipe_s:.2f}s)")


if __name__ == "__main__":
    main()
