"""The Docker engine's plumbing for DockerRuntime: error translation, exec sessions (terminals and
commands) and files written into a container with put_archive before it starts."""

from __future__ import annotations

import contextlib
import io
import logging
import posixpath
import re
import select
import socket
import struct
import tarfile
import threading
import time
from collections.abc import Iterator
from datetime import datetime

import docker
import requests
from docker import errors as docker_errors

from apps.runtime import accounts as account_files
from apps.runtime.base import (
    MAX_COMMAND_OUTPUT,
    CommandResult,
    MachineSpec,
    RuntimeFailure,
    Terminal,
    image_registry,
    normalize_registry,
)
from apps.runtime.spec import SCRATCH_PATHS

logger = logging.getLogger("apps.runtime.docker")

UNREACHABLE_HINTS = (
    "connection refused",
    "no such host",
    "i/o timeout",
    "timeout",
    "network is unreachable",
    "no route to host",
    "server gave http response",
    "connection reset",
    "tls:",
)
AUTH_HINTS = ("unauthorized", "authentication required", "no basic auth credentials", "denied", "forbidden")
MISSING_HINTS = ("not found", "does not exist", "manifest unknown", "name unknown")


def parse_time(value: str | None) -> datetime | None:
    """Parse the engine's RFC 3339 times (nanoseconds, "Z") and our own isoformat labels."""
    if not value:
        return None
    match = re.match(r"^(.*?T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)?$", value)
    if not match:
        return None
    head, fraction, zone = match.groups()
    text = head + (f".{fraction[:6].ljust(6, '0')}" if fraction else "") + (zone or "+00:00").replace("Z", "+00:00")
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


@contextlib.contextmanager
def engine_errors(action: str) -> Iterator[None]:
    """Turn engine and transport errors into RuntimeFailure with a message a person can act on."""
    try:
        yield
    except RuntimeFailure:
        raise
    except docker_errors.ImageNotFound as exc:
        raise RuntimeFailure(f"{action}: image not found ({exc.explanation or exc})", permanent=True) from exc
    except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
        raise RuntimeFailure(f"{action}: the Docker engine is unreachable ({exc})", permanent=False) from exc
    except docker_errors.APIError as exc:
        # 400: the engine refused the request itself (bad option, unknown capability); retrying cannot help.
        raise RuntimeFailure(f"{action}: {exc.explanation or exc}", permanent=exc.status_code == 400) from exc
    except docker_errors.DockerException as exc:
        raise RuntimeFailure(f"{action}: the Docker engine is unreachable ({exc})", permanent=False) from exc


def raw_socket(sock) -> socket.socket:
    return getattr(sock, "_sock", sock)


class DockerTerminal(Terminal):
    """A TTY exec session over the engine's hijacked HTTP connection."""

    def __init__(self, api: docker.APIClient, exec_id: str, sock):
        self._api = api
        self._exec_id = exec_id
        self._wrapper = sock
        self._sock: socket.socket = raw_socket(sock)
        self._write_lock = threading.Lock()
        self._closed = False

    def fileno(self) -> int:
        return self._sock.fileno()

    def read(self, timeout: float | None = None) -> bytes:
        if self._closed:
            raise EOFError("terminal closed")
        ready, _, _ = select.select([self._sock], [], [], timeout)
        if not ready:
            return b""
        data = self._sock.recv(65536)
        if not data:
            raise EOFError("terminal ended")
        return data

    def write(self, data: bytes) -> None:
        with self._write_lock:
            self._sock.sendall(data)

    def resize(self, cols: int, rows: int) -> None:
        with engine_errors("Resizing the terminal"):
            self._api.exec_resize(self._exec_id, height=int(rows), width=int(cols))

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            self._wrapper.close()


def demux(raw: bytes) -> bytes:
    """Return the payload of the engine's multiplexed stdout/stderr stream (8-byte frame headers)."""
    out = bytearray()
    offset = 0
    while offset + 8 <= len(raw):
        (size,) = struct.unpack(">I", raw[offset + 4 : offset + 8])
        out += raw[offset + 8 : offset + 8 + size]
        offset += 8 + size
    return bytes(out)


def run_exec(
    api: docker.APIClient, cid: str, argv: list[str], *, user: str, timeout: float, machine: str
) -> CommandResult:
    """Run one command in a running container (not a tty) and collect its output and exit code."""
    with engine_errors(f"Running a command on {machine}"):
        exec_id = api.exec_create(
            cid, list(argv), stdout=True, stderr=True, stdin=False, tty=False, user=user, workdir="/"
        )["Id"]
        wrapper = api.exec_start(exec_id, socket=True)
    sock = raw_socket(wrapper)
    raw = bytearray()
    deadline = time.monotonic() + timeout
    timed_out = False
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                timed_out = True
                break
            ready, _, _ = select.select([sock], [], [], remaining)
            if not ready:
                continue
            chunk = sock.recv(65536)
            if not chunk:
                break
            if len(raw) < 2 * MAX_COMMAND_OUTPUT:
                raw += chunk
    finally:
        with contextlib.suppress(OSError):
            wrapper.close()
    output = demux(bytes(raw))[:MAX_COMMAND_OUTPUT]
    if timed_out:
        return CommandResult(exit_code=-1, output=output, timed_out=True)
    with engine_errors(f"Reading a command's exit code on {machine}"):
        for _ in range(50):
            info = api.exec_inspect(exec_id)
            if not info.get("Running"):
                break
            time.sleep(0.02)
    code = info.get("ExitCode")
    return CommandResult(exit_code=int(code) if code is not None else -1, output=output)


class ContainerFiles:
    """Accounts and files of one container, read and written through the engine's archive API."""

    def __init__(self, api: docker.APIClient, cid: str):
        self.api = api
        self.cid = cid

    def read_file(self, path: str) -> tuple[bytes, tarfile.TarInfo] | None:
        try:
            stream, _ = self.api.get_archive(self.cid, path)
        except docker_errors.NotFound:
            return None
        with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
            info = tar.getmembers()[0]
            member = tar.extractfile(info)
            return (member.read() if member else b""), info

    def apply_accounts(self, machine: MachineSpec) -> None:
        if not machine.accounts:
            return
        found = {name: self.read_file(f"/etc/{name}") for name in ("passwd", "shadow", "group")}
        text = {name: (item[0].decode("utf-8", "replace") if item else "") for name, item in found.items()}
        result = account_files.apply_accounts(
            passwd=text["passwd"],
            shadow=text["shadow"],
            group=text["group"],
            accounts=machine.accounts,
            machine=machine.name,
        )
        shadow_gid = account_files.shadow_group_id(result.group)
        defaults = {
            "passwd": (0o644, 0, 0),
            "group": (0o644, 0, 0),
            "shadow": (0o640, 0, shadow_gid) if shadow_gid is not None else (0o600, 0, 0),
        }
        members: list[tuple[tarfile.TarInfo, bytes | None]] = []
        for name, content in (("passwd", result.passwd), ("shadow", result.shadow), ("group", result.group)):
            data = content.encode()
            info = tarfile.TarInfo(name)
            previous = found[name]
            if previous is not None and previous[1].isfile():
                info.mode, info.uid, info.gid = previous[1].mode, previous[1].uid, previous[1].gid
            else:
                info.mode, info.uid, info.gid = defaults[name]
            info.size, info.mtime = len(data), time.time()
            members.append((info, data))
        self.api.put_archive(self.cid, "/etc", tar_bytes(members))
        for home, uid, gid in result.homes:
            if not self.exists(home):
                self.put_path(home, None, 0o755, uid, gid)
        logger.info("Applied %d account(s) in %s", len(machine.accounts), machine.name)

    def put_files(self, machine: MachineSpec) -> None:
        users: dict[str, tuple[int, int]] | None = None
        for spec in machine.files:
            if not posixpath.isabs(spec.path) or ".." in spec.path.split("/"):
                raise RuntimeFailure(f"File path {spec.path!r} must be absolute and plain.", permanent=True)
            uid, gid = 0, 0
            if spec.owner not in ("", "root", "0"):
                if users is None:
                    found = self.read_file("/etc/passwd")
                    users = account_files.read_users(found[0].decode("utf-8", "replace") if found else "")
                uid, gid = account_files.resolve_owner(spec.owner, users, machine.name)
            self.put_path(spec.path, spec.content, spec.mode, uid, gid)
        logger.info("Provisioned %d file(s) into %s", len(machine.files), machine.name)

    def put_path(self, path: str, content: bytes | None, mode: int, uid: int, gid: int) -> None:
        """Write a file (or a folder when ``content`` is None) with its missing parent folders."""
        # Climb to the nearest existing folder: the archive brings the missing ones with it,
        # and folders that exist keep their own mode and owner.
        path = posixpath.normpath(path)
        parent = posixpath.dirname(path)
        missing: list[str] = []
        while parent != "/" and not self.exists(parent):
            missing.insert(0, posixpath.basename(parent))
            parent = posixpath.dirname(parent)
        members: list[tuple[tarfile.TarInfo, bytes | None]] = []
        prefix = ""
        for folder in missing:
            prefix = posixpath.join(prefix, folder)
            info = tarfile.TarInfo(prefix)
            info.type, info.mode, info.uid, info.gid, info.mtime = tarfile.DIRTYPE, 0o755, 0, 0, time.time()
            members.append((info, None))
        info = tarfile.TarInfo(posixpath.join(prefix, posixpath.basename(path)))
        info.mode, info.uid, info.gid, info.mtime = mode, uid, gid, time.time()
        if content is None:
            info.type = tarfile.DIRTYPE
        else:
            info.size = len(content)
        members.append((info, content))
        self.api.put_archive(self.cid, parent, tar_bytes(members))

    def exists(self, path: str) -> bool:
        try:
            self.api.put_archive(self.cid, path, tar_bytes([]))
        except docker_errors.NotFound:
            return False
        return True


def tar_bytes(members: list[tuple[tarfile.TarInfo, bytes | None]]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for info, content in members:
            tar.addfile(info, io.BytesIO(content) if content is not None else None)
    return buffer.getvalue()


def pull_image(api: docker.APIClient, machine: MachineSpec) -> None:
    """Pull a machine's image as its pull policy allows, with its registry credentials if any."""
    ref = machine.image
    registry = image_registry(ref)
    if not machine.allow_pull:
        raise RuntimeFailure(
            f"Image {ref} is not on the engine, and pulling images is not allowed here.", permanent=True
        )
    if registry == "docker.io" and not machine.pull_from_hub:
        raise RuntimeFailure(
            f"Image {ref} is not on the engine and would come from Docker Hub, which this install does not allow.",
            permanent=True,
        )
    auth = machine.registry_auth
    auth_config = None
    if auth is not None:
        if normalize_registry(auth.registry) != registry:
            raise RuntimeFailure(
                f"The registry credentials of machine {machine.name} are for {normalize_registry(auth.registry)}, "
                f"but image {ref} comes from {registry}.",
                permanent=True,
            )
        # Sent with this pull only: the engine keeps no copy, and neither do we.
        auth_config = {"username": auth.username, "password": auth.password}
    try:
        with engine_errors(f"Pulling image {ref}"):
            for line in api.pull(ref, stream=True, decode=True, auth_config=auth_config):
                if isinstance(line, dict) and line.get("error"):
                    raise RuntimeFailure(str(line["error"]), permanent=False)
    except RuntimeFailure as exc:
        message = exc.message
        if auth is not None:
            message = message.replace(auth.password, "***")
        lowered = message.lower()
        if any(hint in lowered for hint in AUTH_HINTS):
            if auth is not None:
                raise RuntimeFailure(
                    f"Registry {registry} refused the credentials of {auth.username} for image {ref}.",
                    permanent=True,
                ) from None
            raise RuntimeFailure(
                f"Image {ref} is not available: {registry} refused to serve it without credentials ({message}).",
                permanent=True,
            ) from None
        permanent = any(hint in lowered for hint in MISSING_HINTS)
        raise RuntimeFailure(f"Image {ref} is not available: {message}", permanent=permanent) from None


def scratch_mounts() -> dict[str, str]:
    """The tmpfs mounts of a machine with a read-only root: its only writable places."""
    # /run is root's; the other scratch places are shared and sticky, like /tmp everywhere.
    return {
        path: f"rw,nosuid,nodev,size={size}m,mode={'755' if path == '/run' else '1777'}"
        for path, size in SCRATCH_PATHS.items()
    }
