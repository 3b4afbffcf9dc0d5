"""Desktops: start to first frame, relay memory per open desktop, and frame latency through RangeX
against a direct websockify connection to the same VNC server.

    export PYTHONPATH=$PWD DJANGO_SETTINGS_MODULE=rangex.settings_test
    python manage.py build_images --set desktop     # once: several minutes
    python bench/desktop.py                          # --frames 200 --desktops 4

RangeX runs for real: Daphne serves ``rangex.asgi`` in a child process, and a small RFB client (VNC
authentication, Raw encoding) speaks over a real WebSocket, acknowledging what it reads as the
page does (every 64 KiB). The baseline is websockify (PyPI) on this host proxying to the same Xvnc.
Both clients are the same (``websockets``' sync client, TCP_NODELAY; Daphne's autobahn and
websockify set it too), and their 64x64 requests alternate frame by frame. The paths:

- RangeX: client -> Daphne (consumer) -> the engine's exec socket -> dockerd -> ``socat`` in the
  machine -> Xvnc on its loopback.
- websockify: client -> websockify -> a local ``socat`` -> the ``docker exec -i`` CLI -> dockerd ->
  ``socat`` in the machine -> Xvnc. Xvnc listens on the machine's loopback only and the lab network
  is closed to this host, so the baseline needs those two extra local hops; they count against it.

The ratio is RangeX's consumer (checks, control channel, acknowledgements, Channels and Daphne)
against websockify's proxy.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import struct
import subprocess
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import benchdb  # noqa: F401  (DATABASE_URL: the bench's own database, created when missing)
import django

django.setup()
warnings.filterwarnings("ignore", category=DeprecationWarning, module="websockets")

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES  # noqa: E402
from cryptography.hazmat.primitives.ciphers import Cipher, modes  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402
from websockets.sync.client import connect  # noqa: E402

from apps.accounts.factories import PASSWORD, AdminFactory, CreatorFactory, UserFactory  # noqa: E402
from apps.environments import services  # noqa: E402
from apps.environments.factories import desktop_version, ensure_desktop_image  # noqa: E402
from apps.environments.models import SessionStatus  # noqa: E402
from apps.environments.services.desktops import desktop_passwords  # noqa: E402
from apps.runtime import get_runtime  # noqa: E402
from rangex.core.system import system_settings_update  # noqa: E402

ACK_EVERY = 64 * 1024  # the page's (its 50 ms timer flushes a smaller remainder; the 2 MiB window never fills here)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


class RfbClient:
    """Just enough RFB 3.8 over a WebSocket: VNC authentication, Raw pixels, update requests."""

    def __init__(self, url: str, password: str | None, *, origin: str | None = None, cookie: str = "", acks=False):
        headers = {"Cookie": f"sessionid={cookie}"} if cookie else None
        self.ws = connect(url, subprotocols=["binary"], origin=origin, additional_headers=headers, max_size=None)
        self.buffer = bytearray()
        self.acks = acks
        self.unacked = 0
        self.password = password

    def _fill(self, n: int) -> None:
        while len(self.buffer) < n:
            message = self.ws.recv(timeout=30)
            if isinstance(message, str):
                data = json.loads(message)
                if data.get("type") == "hello":
                    self.password = data["password"]
                elif data.get("type") == "error":
                    raise RuntimeError(data["message"])
                continue
            self.buffer += message
            if self.acks:  # as the page does (static/js/desktop.js): once per ACK_EVERY bytes, not per message
                self.unacked += len(message)
                if self.unacked >= ACK_EVERY:
                    self.ws.send(json.dumps({"type": "ack", "bytes": self.unacked}))
                    self.unacked = 0

    def read(self, n: int) -> bytes:
        self._fill(n)
        out = bytes(self.buffer[:n])
        del self.buffer[:n]
        return out

    def handshake(self) -> tuple[int, int]:
        assert self.read(12).startswith(b"RFB 003.")
        self.ws.send(b"RFB 003.008\n")
        count = self.read(1)[0]
        types = self.read(count)
        assert 2 in types, f"no VNC authentication among {list(types)}"
        self.ws.send(bytes([2]))
        challenge = self.read(16)
        key = bytes(int(f"{b:08b}"[::-1], 2) for b in (self.password or "").encode()[:8].ljust(8, b"\0"))
        encryptor = Cipher(TripleDES(key), modes.ECB()).encryptor()  # noqa: S305 (VNC's own scheme)
        self.ws.send(encryptor.update(challenge) + encryptor.finalize())
        (result,) = struct.unpack(">I", self.read(4))
        assert result == 0, "VNC authentication failed"
        self.ws.send(bytes([1]))  # shared
        width, height = struct.unpack(">HH", self.read(4))
        self.read(16)  # pixel format (32 bpp true colour by default)
        (name_length,) = struct.unpack(">I", self.read(4))
        self.read(name_length)
        self.ws.send(struct.pack(">BxHi", 2, 1, 0))  # SetEncodings: Raw only
        self.width, self.height = width, height
        return width, height

    def frame(self, x: int, y: int, w: int, h: int) -> int:
        """Request a non-incremental update of a region; return the bytes of pixels received."""
        self.ws.send(struct.pack(">BBHHHH", 3, 0, x, y, w, h))
        while True:
            kind = self.read(1)[0]
            if kind == 0:
                break
            if kind == 2:  # bell
                continue
            if kind == 3:  # server cut text
                self.read(3)
                (length,) = struct.unpack(">i", self.read(4))
                self.read(abs(length))
                continue
            raise RuntimeError(f"unexpected server message {kind}")
        self.read(1)
        (rects,) = struct.unpack(">H", self.read(2))
        total = 0
        for _ in range(rects):
            _, _, rw, rh, encoding = struct.unpack(">HHHHi", self.read(12))
            if encoding == 0:
                self.read(rw * rh * 4)
                total += rw * rh * 4
        return total

    def close(self) -> None:
        self.ws.close()


def rss_kib(pid: int) -> int:
    total = 0
    for child in [pid, *children(pid)]:
        try:
            for line in Path(f"/proc/{child}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total


def children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return [int(p) for p in out]


def latencies(clients: list[RfbClient], frames: int) -> list[list[float]]:
    """Time ``frames`` 64x64 updates on each client, alternating frame by frame (and who goes first),
    so a burst of load on this shared machine hits every path alike."""
    out: list[list[float]] = [[] for _ in clients]
    width, height = min(c.width for c in clients), min(c.height for c in clients)
    for index in range(frames):
        x, y = (index * 37) % (width - 64), (index * 53) % (height - 64)
        order = list(enumerate(clients))
        for slot, client in order if index % 2 == 0 else order[::-1]:
            started = time.perf_counter()
            client.frame(x, y, 64, 64)
            out[slot].append(time.perf_counter() - started)
    return out


def full_frames(client: RfbClient, count: int) -> float:
    started = time.perf_counter()
    size = sum(client.frame(0, 0, client.width, client.height) for _ in range(count))
    return size / (time.perf_counter() - started) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=200, help="small-region updates timed per path")
    parser.add_argument("--desktops", type=int, default=4, help="desktops held open for the memory figure")
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    ensure_desktop_image()
    system_settings_update(actor=None, max_sessions_per_hour=10_000, max_sessions_per_day=10_000)
    tag = f"{os.getpid()}-{time.time_ns()}"
    version = desktop_version(
        creator=CreatorFactory(email=f"creator-{tag}@bench.rangex.local"),
        admin=AdminFactory(email=f"admin-{tag}@bench.rangex.local"),
    )
    user = UserFactory(email=f"solver-{tag}@bench.rangex.local")
    client = Client()
    client.post("/accounts/login/", {"email": user.email, "password": PASSWORD})
    cookie = client.cookies["sessionid"].value

    port = free_port()
    from django.conf import settings

    # The child serves the same instance (its runtime finds this process's machines by that label).
    root = str(Path(__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": root, "RANGEX_TEST_INSTANCE": settings.RANGEX_INSTANCE}
    daphne = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "rangex.asgi:application"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    runtime = get_runtime()
    session = None
    proxy = bridge = None
    try:
        wait_port(port)
        origin = f"http://127.0.0.1:{port}"
        started = time.perf_counter()
        session = services.env_session_start(user=user, version=version)
        session.refresh_from_db()
        assert session.status == SessionStatus.RUNNING, session.reason_stopped
        url = f"ws://127.0.0.1:{port}/ws/sessions/{session.pk}/desktop/desktop/?token={session.gateway_session_token}"
        ours = RfbClient(url, None, origin=origin, cookie=cookie, acks=True)
        ours.handshake()
        ours.frame(0, 0, ours.width, ours.height)
        first_frame = time.perf_counter() - started
        what = "session start, launch, ready check, relay, VNC auth"
        print(f"Start to first desktop frame ({what}): {first_frame:.2f} s")

        # The baseline: websockify (PyPI) on this host -> a local socat -> `docker exec socat` -> the same Xvnc.
        # Xvnc listens on the machine's loopback and the lab network is closed to the host, so the
        # baseline reaches it through the same engine exec as RangeX: the ratio is the cost of
        # RangeX's consumer (checks, control channel, acknowledgements) against websockify's proxy.
        cid = session.machines.get().task_arn
        bridge_port = free_port()
        bridge = subprocess.Popen(
            ["socat", f"TCP-LISTEN:{bridge_port},bind=127.0.0.1,fork,reuseaddr,nodelay",
             f"EXEC:docker exec -i {cid} socat - TCP\\:127.0.0.1\\:5901"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_port(bridge_port)
        wport = free_port()
        proxy = subprocess.Popen(
            [sys.executable, "-m", "websockify", f"127.0.0.1:{wport}", f"127.0.0.1:{bridge_port}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_port(wport)
        password = desktop_passwords(session_id=session.pk, machine="desktop")[0]
        theirs = RfbClient(f"ws://127.0.0.1:{wport}/", password)
        theirs.handshake()
        theirs.frame(0, 0, theirs.width, theirs.height)

        ours_lat, theirs_lat = latencies([ours, theirs], args.frames)
        ours_tp, theirs_tp = full_frames(ours, 10), full_frames(theirs, 10)
        o50, t50 = statistics.median(ours_lat) * 1000, statistics.median(theirs_lat) * 1000
        o95 = statistics.quantiles(ours_lat, n=20)[18] * 1000
        t95 = statistics.quantiles(theirs_lat, n=20)[18] * 1000
        print(f"Frame latency, 64x64 Raw update, {len(ours_lat)} each:")
        print(f"  RangeX relay        p50 {o50:6.2f} ms  p95 {o95:6.2f} ms")
        print(f"  direct websockify   p50 {t50:6.2f} ms  p95 {t95:6.2f} ms")
        print(f"  ratio RangeX/websockify  p50 {o50 / t50:.2f}  p95 {o95 / t95:.2f}")
        print(f"Full frames ({ours.width}x{ours.height} Raw, 10 each): RangeX {ours_tp:.1f} MB/s, "
              f"websockify {theirs_tp:.1f} MB/s, ratio {theirs_tp / ours_tp:.2f} (time)")  # fmt: skip
        theirs.close()

        before = rss_kib(daphne.pid)
        extra = []
        for _ in range(args.desktops):
            more = RfbClient(url, None, origin=origin, cookie=cookie, acks=True)
            more.handshake()
            more.frame(0, 0, more.width, more.height)
            extra.append(more)
        time.sleep(1)
        after = rss_kib(daphne.pid)
        per = (after - before) / args.desktops
        print(f"Relay memory: web process RSS {before / 1024:.1f} MiB with 1 desktop open, "
              f"{after / 1024:.1f} MiB with {args.desktops + 1}: {per:.0f} KiB per open desktop")  # fmt: skip
        for more in extra:
            more.close()
        ours.close()
    finally:
        for helper in (proxy, bridge):
            if helper is not None:
                helper.terminate()
        daphne.terminate()
        daphne.wait(timeout=10)
        if session is not None:
            runtime.stop(str(session.pk))


if __name__ == "__main__":
    main()
