"""The gateway terminal transport, for real on Docker: a gateway container on a session network,
reached from the test on a loopback port, and a shell opened through it on a machine of that network.

The machine here runs the gateway image's sshd as root login with the session key: any image with
an sshd serves; the gateway itself only forwards (to port 22) and never gives a shell.
"""

from __future__ import annotations

import asyncio
import io
import subprocess
import tarfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import asyncssh
import pytest

from apps.runtime import FileSpec, RuntimeFailure
from apps.runtime.gateway import GatewayKeys, SshTerminal
from apps.runtime.tests.helpers import docker_json, read_until

pytestmark = pytest.mark.docker

# What sshd needs to separate privileges and hand a pty over; everything else is dropped.
SSHD_CAPS = ["CHOWN", "SETUID", "SETGID", "SYS_CHROOT", "NET_BIND_SERVICE", "AUDIT_WRITE", "KILL", "FOWNER"]


def _docker(*argv: str, stdin: bytes | None = None) -> str:
    done = subprocess.run(["docker", *argv], input=stdin, capture_output=True)
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout.decode().strip()


def _put_files(container: str, files: list[FileSpec]) -> None:
    """Write files into a created (not started) container, as a runtime does before start."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for spec in files:
            info = tarfile.TarInfo(spec.path.lstrip("/"))
            info.size, info.mode = len(spec.content), spec.mode
            tar.addfile(info, io.BytesIO(spec.content))
    _docker("cp", "-", f"{container}:/", stdin=buffer.getvalue())


@pytest.fixture(scope="module")
def session(gateway_image):
    """A session network with a gateway (port 22 published on 127.0.0.1) and one machine running sshd."""
    tag = uuid.uuid4().hex[:10]
    labels = ["--label", "rangex.test=1", "--label", f"rangex.gateway-test={tag}"]
    keys = GatewayKeys.generate()
    machine_keys = GatewayKeys.generate()
    network = _docker("network", "create", *labels, f"rx-gw-{tag}")
    containers: list[str] = []
    try:
        gateway = _docker(
            "create", *labels, "--network", network, "--cap-drop", "ALL",
            *[arg for cap in SSHD_CAPS for arg in ("--cap-add", cap)],
            "--security-opt", "no-new-privileges", "--memory", "64m", "--pids-limit", "64",
            "-p", "127.0.0.1::22", gateway_image,
        )  # fmt: skip
        containers.append(gateway)
        _put_files(gateway, keys.gateway_files())
        sshd = (
            "/usr/sbin/sshd -D -e -o AllowUsers=root -o PermitRootLogin=prohibit-password -o ForceCommand=none "
            "-o PermitTTY=yes -o AuthorizedKeysFile=.ssh/authorized_keys "
            "-o HostKey=/run/gateway/ssh_host_ed25519_key"
        )
        machine = _docker(
            "create", *labels, "--network", network, "--hostname", "victim", "--memory", "64m", gateway_image,
            "sh", "-c", f"chmod 600 /run/gateway/ssh_host_ed25519_key; exec {sshd}",
        )  # fmt: skip
        containers.append(machine)
        _put_files(machine, [machine_keys.gateway_files()[0], *keys.machine_files()])
        for container in containers:
            _docker("start", container)
        port = int(_docker("port", gateway, "22/tcp").splitlines()[0].rsplit(":", 1)[1])
        machine_ip = next(iter(docker_json("inspect", machine)[0]["NetworkSettings"]["Networks"].values()))["IPAddress"]
        yield {"keys": keys, "port": port, "machine_ip": machine_ip, "gateway": gateway}
    finally:
        for container in containers:
            subprocess.run(["docker", "rm", "-f", container], capture_output=True)
        subprocess.run(["docker", "network", "rm", network], capture_output=True)


def _open(session, **options) -> SshTerminal:
    kwargs = {
        "gateway_host": "127.0.0.1",
        "gateway_port": session["port"],
        "keys": session["keys"],
        "machine_host": session["machine_ip"],
        **options,
    }
    # sshd may need a moment after the container starts.
    for _ in range(50):
        try:
            return SshTerminal.open(**kwargs)
        except RuntimeFailure as exc:
            last = exc
            if "refused" not in str(exc).lower() and "reset" not in str(exc).lower():
                raise
        time.sleep(0.2)
    raise last


def test_a_shell_opens_on_the_machine_through_the_gateway(session):
    terminal = _open(session, cols=100, rows=30)
    try:
        assert terminal.fileno() > 0
        terminal.write(b"echo hello-$((6*7)) $(hostname)\n")
        read_until(terminal, b"hello-42 victim")
        terminal.write(b"stty size\n")
        read_until(terminal, b"30 100")
        terminal.resize(132, 43)
        terminal.write(b"stty size\n")
        read_until(terminal, b"43 132")
        terminal.write(b"exit\n")
        with pytest.raises(EOFError):
            for _ in range(40):
                terminal.read(0.25)
    finally:
        terminal.close()
    with pytest.raises(EOFError):
        terminal.read(0.1)


def test_the_gateway_refuses_other_keys_and_pins_its_host_key(session):
    _open(session).close()
    stranger = GatewayKeys.generate()
    wrong_client = GatewayKeys(
        client_private=stranger.client_private,
        client_public=stranger.client_public,
        host_private="",
        host_public=session["keys"].host_public,
    )
    with pytest.raises(RuntimeFailure, match=r"(?i)permission denied"):
        SshTerminal.open(
            gateway_host="127.0.0.1",
            gateway_port=session["port"],
            keys=wrong_client,
            machine_host=session["machine_ip"],
        )
    impostor = GatewayKeys(
        client_private=session["keys"].client_private,
        client_public=session["keys"].client_public,
        host_private="",
        host_public=stranger.host_public,
    )
    with pytest.raises(RuntimeFailure, match=r"(?i)host key"):
        SshTerminal.open(
            gateway_host="127.0.0.1", gateway_port=session["port"], keys=impostor, machine_host=session["machine_ip"]
        )


def _run_async(coro):
    """Run ``coro`` on a loop of its own thread: a browser test may have left Playwright's loop running here."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def test_the_gateway_forwards_only_to_port_22_and_gives_no_shell(session):
    keys = session["keys"]

    async def probe():
        async with asyncssh.connect(
            "127.0.0.1",
            session["port"],
            username="rangex",
            client_keys=[asyncssh.import_private_key(keys.client_private)],
            known_hosts=None,
            agent_path=None,
        ) as conn:
            with pytest.raises(asyncssh.ChannelOpenError):
                await conn.open_connection(session["machine_ip"], 80)
            done = await conn.run("id", check=False)
            return done.stdout or "", done.exit_status

    output, status = _run_async(probe())
    assert "uid=" not in output and status != 0
