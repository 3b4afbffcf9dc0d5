"""Terminals through a session gateway: an SSH jump host that only the web tier and the session reach.

The gateway (``deploy/images/gateway``: Debian's openssh-server) runs once per session, on every
network group of it (on ECS: in all the session's security groups). RangeX makes a key pair and a
gateway host key per session (``GatewayKeys``); both reach the gateway before it starts as files in
``/run/gateway``. A terminal is then two SSH hops made with asyncssh:

1. to the gateway as ``rangex`` with the session key, the gateway's host key pinned (it is ours);
2. through a forwarded TCP channel (the gateway permits port 22 only) to the machine's sshd, as the
   terminal user, with the same session key (the machine got it as an authorized key before it
   started), where a shell opens in a pty.

``SshTerminal`` gives the runtime's synchronous ``Terminal`` interface over that shell: asyncssh runs
on one event loop thread shared by every gateway terminal of the process.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import queue
import threading
from dataclasses import dataclass, field

import asyncssh
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from apps.runtime.base import Terminal
from apps.runtime.errors import RuntimeFailure
from apps.runtime.spec import FileSpec

GATEWAY_USER = "rangex"
GATEWAY_DIR = "/run/gateway"
CONNECT_TIMEOUT = 15.0


@dataclass(frozen=True)
class GatewayKeys:
    """A session's client key and its gateway's host key, in OpenSSH formats."""

    client_private: str = field(repr=False)
    client_public: str
    host_private: str = field(repr=False)
    host_public: str

    @classmethod
    def generate(cls) -> GatewayKeys:
        client = asyncssh.generate_private_key("ssh-ed25519", comment="rangex-session")
        host = asyncssh.generate_private_key("ssh-ed25519", comment="rangex-gateway")
        return cls(
            client_private=client.export_private_key().decode(),
            client_public=client.export_public_key().decode().strip(),
            host_private=host.export_private_key().decode(),
            host_public=host.export_public_key().decode().strip(),
        )

    @classmethod
    def derive(cls, secret: str | bytes, session_id: str, *, instance: str = "") -> GatewayKeys:
        """Return a session's keys derived from ``secret`` (the SECRET_KEY): the same in every process.

        HKDF-SHA256 turns the secret, the instance and the session id into one ed25519 seed per
        purpose, so any web process can open a terminal and nothing private is stored anywhere.
        """
        material = secret.encode() if isinstance(secret, str) else secret

        def key(purpose: str, comment: str):
            seed = HKDF(
                algorithm=hashes.SHA256(),
                length=32,
                salt=b"rangex-gateway-keys-v1",
                info=f"{purpose}\0{instance}\0{session_id}".encode(),
            ).derive(material)
            pem = Ed25519PrivateKey.from_private_bytes(seed).private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
            )
            private = asyncssh.import_private_key(pem)
            private.set_comment(comment)
            return private

        client, host = key("client", "rangex-session"), key("host", "rangex-gateway")
        return cls(
            client_private=client.export_private_key().decode(),
            client_public=client.export_public_key().decode().strip(),
            host_private=host.export_private_key().decode(),
            host_public=host.export_public_key().decode().strip(),
        )

    def gateway_files(self) -> list[FileSpec]:
        """Return what the gateway needs before it starts: its host key and the authorized session key."""
        return [
            FileSpec(f"{GATEWAY_DIR}/ssh_host_ed25519_key", self.host_private.encode(), 0o600),
            FileSpec(f"{GATEWAY_DIR}/authorized_keys", (self.client_public + "\n").encode(), 0o644),
        ]

    def machine_files(self, home: str = "/root", owner: str = "root") -> list[FileSpec]:
        """Return the authorized key a machine's terminal user needs for the second hop."""
        return [FileSpec(f"{home}/.ssh/authorized_keys", (self.client_public + "\n").encode(), 0o600, owner=owner)]


class _Loop:
    """One asyncio loop on a daemon thread for every gateway terminal of the process."""

    _lock = threading.Lock()
    _loop: asyncio.AbstractEventLoop | None = None
    _pid = 0

    @classmethod
    def get(cls) -> asyncio.AbstractEventLoop:
        with cls._lock:
            if cls._loop is None or cls._pid != os.getpid():
                loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, name="rangex-gateway-ssh", daemon=True).start()
                cls._loop, cls._pid = loop, os.getpid()
            return cls._loop

    @classmethod
    def run(cls, coro, timeout: float | None = None):
        return asyncio.run_coroutine_threadsafe(coro, cls.get()).result(timeout)


class SshTerminal(Terminal):
    """A shell in a machine, reached through the session gateway."""

    def __init__(self) -> None:
        self._output: queue.Queue[bytes | None] = queue.Queue()
        self._ended = False
        self._gateway = None
        self._machine = None
        self._process = None
        # fileno(): a pipe that is readable while output waits (for callers that poll).
        self._signal_r, self._signal_w = os.pipe()
        os.set_blocking(self._signal_r, False)
        os.set_blocking(self._signal_w, False)

    @classmethod
    def open(
        cls,
        *,
        gateway_host: str,
        gateway_port: int = 22,
        keys: GatewayKeys,
        machine_host: str,
        user: str = "root",
        cols: int = 80,
        rows: int = 24,
    ) -> SshTerminal:
        terminal = cls()
        try:
            _Loop.run(
                terminal._connect(gateway_host, gateway_port, keys, machine_host, user, cols, rows),
                timeout=CONNECT_TIMEOUT * 2 + 5,
            )
        except (OSError, asyncssh.Error, TimeoutError) as exc:
            terminal.close()
            raise RuntimeFailure(f"Could not open a terminal on {machine_host} through the gateway: {exc}") from exc
        return terminal

    async def _connect(self, gateway_host, gateway_port, keys, machine_host, user, cols, rows) -> None:
        client_key = asyncssh.import_private_key(keys.client_private)
        known = asyncssh.import_known_hosts(
            f"[{gateway_host}]:{gateway_port} {keys.host_public}\n{gateway_host} {keys.host_public}\n"
        )
        self._gateway = await asyncssh.connect(
            gateway_host,
            gateway_port,
            username=GATEWAY_USER,
            client_keys=[client_key],
            known_hosts=known,
            agent_path=None,
            connect_timeout=CONNECT_TIMEOUT,
        )
        # The machine's host key is its own (made when its sshd first ran); the path to it is
        # pinned and runs only inside the session's networks.
        self._machine = await self._gateway.connect_ssh(
            machine_host,
            22,
            username=user,
            client_keys=[client_key],
            known_hosts=None,
            agent_path=None,
            connect_timeout=CONNECT_TIMEOUT,
        )
        self._process = await self._machine.create_process(
            term_type="xterm-256color", term_size=(cols, rows), encoding=None
        )
        asyncio.get_running_loop().create_task(self._pump())

    async def _pump(self) -> None:
        try:
            while True:
                chunk = await self._process.stdout.read(65536)
                if not chunk:
                    break
                self._output.put(chunk)
                self._signal()
        except (asyncssh.Error, OSError):
            pass
        finally:
            self._output.put(None)
            self._signal()

    def _signal(self) -> None:
        # Full (nobody polls) or closed: the queue holds the output either way.
        with contextlib.suppress(OSError):
            os.write(self._signal_w, b"x")

    def read(self, timeout: float | None = None) -> bytes:
        if self._ended:
            raise EOFError
        with contextlib.suppress(OSError):
            os.read(self._signal_r, 65536)
        chunks: list[bytes] = []
        try:
            first = self._output.get(timeout=timeout) if timeout else self._output.get_nowait()
        except queue.Empty:
            return b""
        for item in [first, *self._drain()]:
            if item is None:
                self._ended = True
                break
            chunks.append(item)
        if not chunks and self._ended:
            raise EOFError
        return b"".join(chunks)

    def _drain(self) -> list[bytes | None]:
        items = []
        while True:
            try:
                items.append(self._output.get_nowait())
            except queue.Empty:
                return items

    def write(self, data: bytes) -> None:
        if self._process is None or self._ended:
            raise EOFError
        # asyncssh objects belong to the loop's thread: hand every call over to it.
        _Loop.get().call_soon_threadsafe(self._process.stdin.write, data)

    def resize(self, cols: int, rows: int) -> None:
        if self._process is not None and not self._ended:
            _Loop.get().call_soon_threadsafe(self._process.change_terminal_size, cols, rows)

    def close(self) -> None:
        self._ended = True
        for conn in (self._machine, self._gateway):
            if conn is not None:
                _Loop.get().call_soon_threadsafe(conn.close)
        self._machine = self._gateway = self._process = None
        for fd in (self._signal_r, self._signal_w):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._signal_r = self._signal_w = -1

    def fileno(self) -> int:
        return self._signal_r
