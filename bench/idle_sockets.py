"""Hold idle WebSockets open through daphne on the Redis channel layer and count the disconnects.

    python bench/idle_sockets.py [--minutes 10] [--baseline-minutes 1]

Starts a lab (the pivot topology, as bench/session.py does) and a daphne server with the Redis
layer, then keeps three sockets of one signed-in user open and idle: the lab's terminal, its
session page and the navigation bar's notification count. A socket that closes is counted and
reopened at once, as the pages do. At the end each socket must still work: the terminal echoes a
command, the session page and the notification socket receive a group message.

The baseline is the same run with the channel layer given only the Redis URL, so redis-py's
default timeouts apply (RangeX's configuration before issue 27). It prints disconnects per socket
and minute of idling for both, and the application errors in each daphne log. Uses its own
database, ``rangex_bench``, and its own key prefix.

The sockets are held by a child process (this script with ``--client``): the client side of
autobahn runs on asyncio, while Django's set-up has already bound autobahn to Twisted for daphne.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The channel layer as it was configured before issue 27: the URL alone, redis-py's defaults.
BASELINE_SETTINGS = """
from rangex.settings_test import *  # noqa: F403
CHANNEL_LAYERS["default"]["CONFIG"]["hosts"] = [REDIS_URL]  # noqa: F405
"""


# --- The client: holds the sockets -----------------------------------------------------------


class Watch:
    """One page's socket: reopened whenever it closes, with every close counted."""

    def __init__(self, name: str, url: str, origin: str, cookie: str):
        self.name, self.url, self.origin, self.cookie = name, url, origin, cookie
        self.protocol = None
        self.closes: list[int | None] = []
        self.received = bytearray()
        self.open_event = asyncio.Event()
        self.stopping = False

    async def connect(self) -> None:
        from autobahn.asyncio.websocket import WebSocketClientFactory, WebSocketClientProtocol

        watch = self

        class Probe(WebSocketClientProtocol):
            def onOpen(self):
                watch.protocol = self
                watch.open_event.set()

            def onMessage(self, payload, isBinary):
                watch.received.extend(payload if isBinary else payload + b"\n")

            def onClose(self, wasClean, code, reason):
                watch.closed(code)

        factory = WebSocketClientFactory(self.url, origin=self.origin, headers={"Cookie": f"sessionid={self.cookie}"})
        factory.protocol = Probe
        host, port = self.origin.removeprefix("http://").split(":")
        await asyncio.get_running_loop().create_connection(factory, host, int(port))
        await asyncio.wait_for(self.open_event.wait(), 30)

    def closed(self, code) -> None:
        self.protocol = None
        self.open_event.clear()
        if not self.stopping:
            self.closes.append(code)
            asyncio.get_running_loop().create_task(self.connect())

    async def wait_for(self, needle: bytes, timeout: float = 30) -> bool:
        deadline = time.monotonic() + timeout
        while needle not in self.received and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        return needle in self.received


async def client(spec: dict) -> None:
    """Hold the sockets idle for the given minutes, then check each still works; print the result."""
    origin = f"http://127.0.0.1:{spec['port']}"
    base = f"ws://127.0.0.1:{spec['port']}"
    watches = [Watch(name, base + path, origin, spec["cookie"]) for name, path in spec["paths"]]
    for watch in watches:
        await watch.connect()
    seconds = spec["minutes"] * 60
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        await asyncio.sleep(min(30, max(deadline - time.monotonic(), 0)))
        so_far = ", ".join(f"{w.name} {len(w.closes)}" for w in watches)
        print(f"    {seconds - max(deadline - time.monotonic(), 0):5.0f} s idle, disconnects: {so_far}", flush=True)
    closes = {w.name: list(w.closes) for w in watches}
    for watch in watches:
        await asyncio.wait_for(watch.open_event.wait(), 30)
    terminal, page, navbar = watches
    terminal.protocol.sendMessage(json.dumps({"type": "input", "data": "echo ALIVE-$((6*7))\n"}).encode())
    print("IDLE-DONE", flush=True)  # The parent now pushes a group message to the page and the navbar.
    await asyncio.to_thread(sys.stdin.readline)
    answers = [await terminal.wait_for(b"ALIVE-42"), await page.wait_for(b"PAGE-OK"), await navbar.wait_for(b"unread")]
    for watch in watches:
        watch.stopping = True
        if watch.protocol is not None:
            watch.protocol.sendClose(1000)
    await asyncio.sleep(0.5)
    result = {"closes": closes, "alive": all(answers)}
    print("RESULT " + json.dumps(result), flush=True)


# --- The parent: the lab, daphne and the pushes -----------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_daphne(port: int, settings_module: str, log: Path, pythonpath: str) -> subprocess.Popen:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": settings_module, "PYTHONPATH": pythonpath}
    daphne = subprocess.Popen(
        [str(Path(sys.executable).with_name("daphne")), "-b", "127.0.0.1", "-p", str(port), "rangex.asgi:application"],
        cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    for _ in range(300):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return daphne
        time.sleep(0.1)
    daphne.kill()
    raise RuntimeError(f"daphne did not start; see {log}")


def run(label: str, settings_module: str, pythonpath: str, minutes: float, session, user, cookie) -> float:
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    from rangex.core.notifications import notification_send

    port = free_port()
    log = Path(tempfile.gettempdir()) / f"rangex-bench-idle-{os.getpid()}-{label.replace(' ', '-')}.log"
    print(f"  {label}: daphne on port {port} for {minutes:g} min, log {log}", flush=True)
    daphne = start_daphne(port, settings_module, log, pythonpath)
    token = session.gateway_session_token
    paths = [
        ("terminal", f"/ws/sessions/{session.pk}/terminal/attacker/?token={token}"),
        ("session page", f"/ws/sessions/{session.pk}/"),
        ("notifications", "/ws/notifications/"),
    ]
    spec = {"port": port, "cookie": cookie, "minutes": minutes, "paths": paths}
    command = [sys.executable, __file__, "--client", json.dumps(spec)]
    holder = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    result = None
    try:
        for line in holder.stdout:
            if line.startswith("IDLE-DONE"):
                event = {"type": "session.event", "event": {"status": "running", "marker": "PAGE-OK"}}
                async_to_sync(get_channel_layer().group_send)(f"session-{session.pk}", event)
                notification_send(user=user, type="system", title="bench")
                holder.stdin.write("pushed\n")
                holder.stdin.flush()
            elif line.startswith("RESULT "):
                result = json.loads(line.removeprefix("RESULT "))
            else:
                print(line, end="", flush=True)
        holder.wait(30)
    finally:
        holder.kill()
        daphne.terminate()
        daphne.wait(10)
    if result is None:
        raise RuntimeError("the socket holder ended without a result")
    text = log.read_text(errors="replace")
    closes = result["closes"]
    total = sum(len(codes) for codes in closes.values())
    rate = total / len(closes) / minutes
    each = ", ".join(f"{name} {len(codes)}" for name, codes in closes.items())
    print(
        f"  {label}: {total} disconnects of {len(closes)} idle sockets in {minutes:g} min ({rate:.2f} per socket "
        f"per minute; {each}); daphne log: {text.count('Exception inside application')} application errors, "
        f"{text.count('redis.exceptions.TimeoutError')} of them Redis read timeouts; every socket works at the "
        f"end: {'yes' if result['alive'] else 'NO'}",
        flush=True,
    )
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--baseline-minutes", type=float, default=1, help="0 skips the baseline")
    parser.add_argument("--client", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        asyncio.run(client(json.loads(args.client)))
        return

    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "bench"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rangex.settings_test")
    os.environ.setdefault("RANGEX_TEST_INSTANCE", f"rxbench-idle-{os.getpid()}")
    import benchdb  # noqa: F401  (DATABASE_URL: the bench's own database, created when missing)
    import django

    django.setup()

    from django.core.management import call_command
    from django.test import Client

    from apps.accounts.factories import PASSWORD, AdminFactory, CreatorFactory, UserFactory
    from apps.environments import services
    from apps.environments.factories import ensure_test_image, pivot_version
    from apps.runtime import get_runtime
    from rangex.core.system import system_settings_update

    call_command("migrate", verbosity=0)
    ensure_test_image()
    system_settings_update(actor=None, max_sessions_per_hour=10_000, max_sessions_per_day=10_000)
    # The bench database outlives a run, so every account gets a fresh address.
    tag = f"{os.getpid()}-{time.time_ns()}"
    version = pivot_version(
        creator=CreatorFactory(email=f"creator-{tag}@bench.rangex.local"),
        admin=AdminFactory(email=f"admin-{tag}@bench.rangex.local"),
    )
    user = UserFactory(email=f"solver-{tag}@bench.rangex.local")
    login = Client()
    login.post("/accounts/login/", {"email": user.email, "password": PASSWORD})
    cookie = login.cookies["sessionid"].value
    session = services.env_session_start(user=user, version=version)
    session.refresh_from_db()
    if session.status != "running":
        raise RuntimeError(f"session {session.pk} is {session.status}: {session.reason_stopped}")

    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "bench_idle_baseline_settings.py").write_text(BASELINE_SETTINGS)
        pythonpath = os.pathsep.join([str(ROOT), folder])
        try:
            print("Idle WebSockets through daphne on the Redis channel layer:", flush=True)
            baseline = None
            if args.baseline_minutes > 0:
                baseline = run(
                    "library defaults", "bench_idle_baseline_settings", pythonpath, args.baseline_minutes,
                    session, user, cookie,
                )  # fmt: skip
            ours = run("RangeX", os.environ["DJANGO_SETTINGS_MODULE"], pythonpath, args.minutes, session, user, cookie)
            if baseline is not None:
                print(f"  disconnects per socket-minute: RangeX {ours:.2f} against {baseline:.2f} with the defaults")
        finally:
            services.env_session_stop(session=session, actor=None, reason="benchmark")
            get_runtime().stop(str(session.pk))


if __name__ == "__main__":
    main()
