"""The desktop relay over a real desktop machine: the VNC server's banner through ``docker exec``,
every refusal before accept, the rate, oversized messages, a desktop that is not running, and flow
control against a browser that never acknowledges."""

from __future__ import annotations

import json
import struct
import time
import tracemalloc

import pytest
from channels.testing import WebsocketCommunicator

from apps.accounts.factories import UserFactory, login_client
from apps.environments import services
from apps.environments.desktop_relay import WINDOW
from apps.environments.factories import desktop_version
from apps.environments.models import EnvironmentMachine, GuiSession, SessionStatus
from apps.environments.services.desktops import desktop_passwords
from apps.runtime.streams import CHUNK
from tests.asgi import application

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("channel_layer")]


@pytest.fixture(scope="module")
def desktop_image():
    from apps.environments.factories import ensure_desktop_image

    return ensure_desktop_image()


@pytest.fixture
def running(runtime, desktop_image):
    user = UserFactory()
    session = services.env_session_start(user=user, version=desktop_version())
    session.refresh_from_db()
    assert session.status == SessionStatus.RUNNING, session.reason_stopped
    yield session, login_client(user).cookies["sessionid"].value
    runtime.stop(str(session.pk))


def communicator(session, cookie, *, machine="desktop", token=None):
    token = session.gateway_session_token if token is None else token
    path = f"/ws/sessions/{session.pk}/desktop/{machine}/?token={token}"
    headers = [(b"origin", b"http://testserver"), (b"host", b"testserver"), (b"cookie", f"sessionid={cookie}".encode())]
    return WebsocketCommunicator(application, path, headers=headers, subprotocols=["binary"])


async def test_the_relay_reaches_the_vnc_server_and_records_the_connection(running):
    session, cookie = running
    comm = communicator(session, cookie)
    connected, subprotocol = await comm.connect(timeout=10)
    assert connected and subprotocol == "binary"
    hello = json.loads(await comm.receive_from(timeout=10))
    assert hello["type"] == "hello" and hello["view_only"] is False
    assert hello["password"] == desktop_passwords(session_id=session.pk, machine="desktop")[0]
    assert (await comm.receive_from(timeout=10)) == b"RFB 003.008\n"
    # The client's answer goes through: the server offers its security types (VNC authentication).
    await comm.send_to(bytes_data=b"RFB 003.008\n")
    types = await comm.receive_from(timeout=10)
    assert types[0] >= 1 and 2 in types[1:]
    row = await _row(session)
    assert row.status == "active" and row.machine_name == "desktop" and not row.view_only
    await comm.disconnect()
    row = await _row(session)
    assert row.status == "closed" and row.duration is not None


async def test_refusals_happen_before_accept(running, settings):
    session, cookie = running
    # Every connection that passes the access check counts, refused or not: three a minute here.
    settings.RANGEX_THROTTLE_RATES = {**settings.RANGEX_THROTTLE_RATES, "desktop.user": "3/min"}
    for kwargs, code in [({"token": "wrong"}, 4403), ({"machine": "nowhere"}, 4404)]:
        comm = communicator(session, cookie, **kwargs)
        connected, close = await comm.connect(timeout=10)
        assert not connected and close == code, kwargs
    stranger = await _login(UserFactory)
    comm = communicator(session, stranger)
    assert (await comm.connect(timeout=10)) == (False, 4404)
    comm = communicator(session, cookie)
    assert (await comm.connect(timeout=10))[0]
    await comm.disconnect()
    assert (await communicator(session, cookie).connect(timeout=10)) == (False, 4429)


async def test_an_oversized_message_closes_the_socket(running):
    session, cookie = running
    comm = communicator(session, cookie)
    assert (await comm.connect(timeout=10))[0]
    await comm.receive_from(timeout=10)  # hello
    await comm.send_to(bytes_data=b"x" * (256 * 1024 + 1))
    while True:
        message = await comm.receive_output(timeout=10)
        if message["type"] == "websocket.close":
            assert message["code"] == 1009
            break


async def test_a_desktop_that_is_not_running_marks_its_machine_failed_with_the_log_tail(running, runtime):
    session, cookie = running
    await _kill_desktop(runtime, session)
    comm = communicator(session, cookie)
    assert (await comm.connect(timeout=10))[0]
    error = None
    while error is None:
        message = await comm.receive_output(timeout=15)
        assert message["type"] != "websocket.close", "closed without saying why"
        if message.get("text") and json.loads(message["text"])["type"] == "error":
            error = json.loads(message["text"])
    assert "not running" in error["message"] or "cannot be reached" in error["message"]
    assert "Xvnc" in error["log"] or "TigerVNC" in error["log"]
    assert (await comm.receive_output(timeout=10))["code"] == 4500
    row = await _row(session)
    assert row.status == "failed" and "TigerVNC" in row.error_message
    machine = await _machine(session)
    assert machine.status == EnvironmentMachine.Status.FAILED


async def test_a_browser_that_never_acknowledges_stops_the_relay_at_the_window(running):
    """Forty full 1280x800 frames asked for (~160 MB) and nothing acknowledged: the server sends the
    window and stops reading from the machine; its memory stays flat while the VNC server waits.
    Acknowledging resumes the stream, which arrives whole."""
    session, cookie = running
    comm = communicator(session, cookie)
    assert (await comm.connect(timeout=10))[0]
    hello = json.loads(await comm.receive_from(timeout=10))
    assert hello["window"] == WINDOW
    rfb = _Rfb(comm)
    width, height = await rfb.handshake(hello["password"])
    handshake = rfb.total
    for _ in range(40):
        await comm.send_to(bytes_data=struct.pack(">BBHHHH", 3, 0, 0, 0, width, height))

    await rfb.drain(quiet=2.0)  # until nothing more comes for 2 s
    assert WINDOW <= rfb.total <= WINDOW + CHUNK, rfb.total
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        await rfb.drain(quiet=3.0)
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert rfb.total <= WINDOW + CHUNK, "the server went on reading past the window"
    assert grown < 512 * 1024, f"{grown} bytes more held while the browser acknowledged nothing"

    stalled = rfb.total
    await rfb.drain(quiet=3.0, ack=True)  # acknowledge as the page does: the rest flows
    # Xvnc merges the requests it holds (one frame, or a few; not forty): at least one whole frame,
    # which is larger than the window and the chunk the server stopped at.
    assert rfb.total > stalled
    assert rfb.total - handshake >= width * height * 4 > WINDOW + CHUNK
    assert rfb.updates() >= 1  # every byte arrived, in order: whole framebuffer updates, nothing left over
    await comm.disconnect()


# --- helpers ----------------------------------------------------------------------------------
async def _row(session):
    from channels.db import database_sync_to_async

    return await database_sync_to_async(lambda: GuiSession.objects.filter(environment_session=session).latest("id"))()


async def _machine(session):
    from channels.db import database_sync_to_async

    return await database_sync_to_async(
        lambda: EnvironmentMachine.objects.get(environment_session=session, machine_name="desktop")
    )()


async def _login(factory):
    from channels.db import database_sync_to_async

    return await database_sync_to_async(lambda: login_client(factory()).cookies["sessionid"].value)()


async def _kill_desktop(runtime, session):
    """Stop the desktop machine behind the runtime's back (as if its main process had exited)."""
    import asyncio

    from apps.runtime.tests.harness import HARNESSES

    await asyncio.to_thread(HARNESSES["docker"].stop_behind_back, runtime, str(session.pk), "desktop")


class _Rfb:
    """Just enough of a VNC client over the communicator: VNC authentication, Raw pixels."""

    def __init__(self, comm):
        self.comm = comm
        self.buffer = bytearray()
        self.total = 0  # binary bytes received since the socket opened
        self.unacked = 0

    async def _fill(self, size: int) -> None:
        while len(self.buffer) < size:
            message = await self.comm.receive_output(timeout=10)
            assert message["type"] == "websocket.send", message
            if message.get("bytes") is not None:
                self._take(message["bytes"])

    def _take(self, data: bytes) -> None:
        self.buffer += data
        self.total += len(data)
        self.unacked += len(data)

    async def read(self, size: int) -> bytes:
        await self._fill(size)
        out = bytes(self.buffer[:size])
        del self.buffer[:size]
        return out

    async def handshake(self, password: str) -> tuple[int, int]:
        from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
        from cryptography.hazmat.primitives.ciphers import Cipher, modes

        assert (await self.read(12)).startswith(b"RFB 003.")
        await self.comm.send_to(bytes_data=b"RFB 003.008\n")
        count = (await self.read(1))[0]
        assert 2 in await self.read(count)
        await self.comm.send_to(bytes_data=bytes([2]))
        challenge = await self.read(16)
        key = bytes(int(f"{b:08b}"[::-1], 2) for b in password.encode()[:8].ljust(8, b"\0"))
        encryptor = Cipher(TripleDES(key), modes.ECB()).encryptor()  # noqa: S305 (VNC's own scheme)
        await self.comm.send_to(bytes_data=encryptor.update(challenge) + encryptor.finalize())
        assert await self.read(4) == b"\0\0\0\0", "VNC authentication failed"
        await self.comm.send_to(bytes_data=bytes([1]))  # shared
        width, height = struct.unpack(">HH", await self.read(4))
        await self.read(16)  # pixel format: 32 bpp true colour
        (name_length,) = struct.unpack(">I", await self.read(4))
        await self.read(name_length)
        await self.comm.send_to(bytes_data=struct.pack(">BxHi", 2, 1, 0))  # SetEncodings: Raw only
        return width, height

    async def drain(self, *, quiet: float, ack: bool = False) -> None:
        """Receive until nothing arrives for ``quiet`` seconds; acknowledge what came when ``ack``."""
        if ack and self.unacked:
            await self.comm.send_to(text_data=json.dumps({"type": "ack", "bytes": self.unacked}))
            self.unacked = 0
        last = time.monotonic()
        while time.monotonic() - last < quiet:
            # receive_output's own timeout would cancel the consumer: look first, then take.
            if await self.comm.receive_nothing(timeout=0.2, interval=0.005):
                continue
            message = await self.comm.receive_output(timeout=10)
            if message.get("bytes") is not None:
                self._take(message["bytes"])
                last = time.monotonic()
                if ack and self.unacked >= 64 * 1024:
                    await self.comm.send_to(text_data=json.dumps({"type": "ack", "bytes": self.unacked}))
                    self.unacked = 0
        if ack and self.unacked:
            await self.comm.send_to(text_data=json.dumps({"type": "ack", "bytes": self.unacked}))
            self.unacked = 0

    def updates(self) -> int:
        """Parse the buffered server messages; they must be whole framebuffer updates of Raw rectangles."""
        data, at, count = bytes(self.buffer), 0, 0
        while at < len(data):
            assert data[at] == 0, f"server message {data[at]} at {at}"
            (rects,) = struct.unpack(">H", data[at + 2 : at + 4])
            at += 4
            for _ in range(rects):
                _, _, w, h, encoding = struct.unpack(">HHHHi", data[at : at + 12])
                assert encoding == 0
                at += 12 + w * h * 4
            count += 1
        assert at == len(data), "a partial update at the end"
        return count
