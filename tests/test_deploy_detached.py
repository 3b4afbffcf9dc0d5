"""deploy/run.sh starts dockerd as a service would: Ctrl-C on the run command leaves it running."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _pids_running(argv: list[str]) -> list[int]:
    """Return the pids whose command line is exactly ``argv``."""
    wanted = "\0".join(argv).encode() + b"\0"
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "cmdline").read_bytes() == wanted:
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def test_a_daemon_started_by_the_run_command_survives_ctrl_c_on_it(tmp_path):
    # A stand-in daemon with a command line no other process has.
    daemon = ["sleep", str(4000 + secrets.randbelow(5000))]
    log = tmp_path / "daemon.log"
    script = f"source {ROOT}/deploy/lib.sh; start_detached {log} {' '.join(daemon)}; echo started; sleep 60"
    # The run command in a process group of its own, as a terminal's foreground job is.
    run = subprocess.Popen(["bash", "-c", script], stdout=subprocess.PIPE, text=True, start_new_session=True)
    pids: list[int] = []
    try:
        assert run.stdout.readline().strip() == "started"
        deadline = time.monotonic() + 10
        while not pids and time.monotonic() < deadline:
            pids = _pids_running(daemon)
            time.sleep(0.05)
        assert len(pids) == 1
        (pid,) = pids
        assert os.getsid(pid) != os.getsid(run.pid) and os.getpgid(pid) != run.pid
        # Ctrl-C (and then a plain kill) to the run command's whole process group.
        os.killpg(run.pid, signal.SIGINT)
        os.killpg(run.pid, signal.SIGTERM)
        run.wait(timeout=10)
        time.sleep(0.2)
        assert _pids_running(daemon) == [pid]
    finally:
        if run.poll() is None:
            run.kill()
        for pid in pids:
            os.kill(pid, signal.SIGTERM)
