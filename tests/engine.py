"""The docker CLI as the tests see the engine: exec in a container, reachability, JSON listings.

Shared by the runtime, environments and ops tests (a plain module, like tests/asgi.py), so no app's
tests import another app's tests package.
"""

from __future__ import annotations

import json
import subprocess


def sh(container_id: str, script: str, *, user: str = "root", timeout: float = 30) -> tuple[int, str]:
    """Run a shell script in a container through the docker CLI; return (exit code, stdout+stderr)."""
    result = subprocess.run(
        ["docker", "exec", "-u", user, container_id, "sh", "-c", script],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return result.returncode, result.stdout + result.stderr


def can_connect(container_id: str, host: str, port: int = 80) -> bool:
    code, _ = sh(container_id, f"nc -w 1 {host} {port} </dev/null")
    return code == 0


def docker_json(*argv: str):
    return json.loads(subprocess.run(["docker", *argv], capture_output=True, text=True, check=True).stdout)


def docker_ids(kind: str, session_id: str) -> list[str]:
    """Return the ids of containers or networks labelled with a session, straight from the CLI."""
    command = ["docker", "ps", "-aq"] if kind == "container" else ["docker", "network", "ls", "-q"]
    out = subprocess.run(
        [*command, "--filter", f"label=rangex.session={session_id}"], capture_output=True, text=True, check=True
    ).stdout
    return out.split()
