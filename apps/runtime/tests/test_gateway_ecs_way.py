"""The ECS terminal path for real, on Docker: what EcsRuntime delivers, reached the way it reaches it.

moto runs no containers, so this test rebuilds one ECS session's terminal path on a Docker network:

* the keys derived from SECRET_KEY, the instance and the session id (``session_keys``), as every
  web process derives them;
* the launch's S3 bundle (``files_bundle(ssh=...)``) unpacked by a busybox "init container" into
  the ssh volume, exactly as the task's init container does (tar into /run/rangex with the ssh
  volume mounted at /run/rangex/ssh);
* the gateway image with that volume at /run/gateway, and a stock lab image (``rangex/pivot``: its
  own command starts Debian's sshd, nothing changed) with its volume read-only at
  /etc/ssh/sshd_config.d, as the task definitions mount them;
* ``gateway_terminal`` (what ``EcsRuntime.open_terminal`` calls) to the gateway's address on port 22
  and on to the machine's address, and a command's output read back.
"""

from __future__ import annotations

import subprocess
import time
import uuid

import pytest
from django.core.management import call_command

from apps.runtime import RuntimeFailure
from apps.runtime.ecs_aws import files_bundle
from apps.runtime.ecs_gateway import gateway_key_files, gateway_terminal, machine_key_files, session_keys
from apps.runtime.tests.helpers import BUSYBOX, docker_json, read_until
from apps.runtime.tests.test_gateway import SSHD_CAPS, _docker

pytestmark = pytest.mark.docker

PIVOT_IMAGE = "rangex/pivot:latest"
INSTANCE = "rangex-ecs-way"


@pytest.fixture(scope="module")
def lab_images(gateway_image, busybox_image):
    if subprocess.run(["docker", "image", "inspect", PIVOT_IMAGE], capture_output=True).returncode != 0:
        call_command("build_images", "--set", "demo")
    return gateway_image


def _volume_from_bundle(bundle: bytes, labels: list[str]) -> str:
    """A volume filled the way the task's init container fills the ssh volume."""
    files, ssh = _docker("volume", "create", *labels), _docker("volume", "create", *labels)
    _docker(
        "run", "--rm", "-i", *labels, "-v", f"{files}:/run/rangex", "-v", f"{ssh}:/run/rangex/ssh", BUSYBOX,
        "sh", "-c", "set -e; tar -x -f - -C /run/rangex; chmod 0755 /run/rangex/ssh",
        stdin=bundle,
    )  # fmt: skip
    _docker("volume", "rm", files)
    return ssh


@pytest.fixture(scope="module")
def ecs_session(lab_images):
    session_id = uuid.uuid4().hex
    tag = session_id[:10]
    labels = ["--label", "rangex.test=1", "--label", f"rangex.gateway-test={tag}"]
    keys = session_keys(INSTANCE, session_id)
    network = _docker("network", "create", *labels, f"rx-ecsway-{tag}")
    containers: list[str] = []
    volumes = [
        _volume_from_bundle(files_bundle([], ssh=gateway_key_files(keys)), labels),
        _volume_from_bundle(files_bundle([], ssh=machine_key_files(keys)), labels),
    ]
    try:
        gateway = _docker(
            "run", "-d", *labels, "--network", network, "--cap-drop", "ALL",
            *[arg for cap in SSHD_CAPS for arg in ("--cap-add", cap)],
            "--memory", "64m", "-v", f"{volumes[0]}:/run/gateway", lab_images,
        )  # fmt: skip
        containers.append(gateway)
        machine = _docker(
            "run", "-d", *labels, "--network", network, "--hostname", "pivot", "--memory", "128m",
            "-v", f"{volumes[1]}:/etc/ssh/sshd_config.d:ro", PIVOT_IMAGE,
        )  # fmt: skip
        containers.append(machine)

        def ip(container: str) -> str:
            return next(iter(docker_json("inspect", container)[0]["NetworkSettings"]["Networks"].values()))[
                "IPAddress"
            ]

        yield {"session_id": session_id, "gateway_ip": ip(gateway), "machine_ip": ip(machine), "gateway": gateway}
    finally:
        for container in containers:
            subprocess.run(["docker", "rm", "-f", container], capture_output=True)
        subprocess.run(["docker", "network", "rm", network], capture_output=True)
        for volume in volumes:
            subprocess.run(["docker", "volume", "rm", volume], capture_output=True)


def _open(ecs_session, **options):
    last: RuntimeFailure | None = None
    for _ in range(75):  # sshd (and the pivot's host keys) may need a moment after start
        try:
            return gateway_terminal(
                INSTANCE,
                ecs_session["session_id"],
                gateway_ip=ecs_session["gateway_ip"],
                machine_ip=ecs_session["machine_ip"],
                **options,
            )
        except RuntimeFailure as exc:
            last = exc
            if not any(word in str(exc).lower() for word in ("refused", "reset", "closed", "timed out")):
                raise
        time.sleep(0.2)
    raise last


def test_a_terminal_opens_on_a_stock_image_through_the_gateway_with_derived_keys(ecs_session):
    started = time.monotonic()
    terminal = _open(ecs_session, user="root", cols=90, rows=20)
    opened = time.monotonic() - started
    try:
        terminal.write(b"echo ecs-way-$((6*7)) $(hostname) $(id -un)\n")
        read_until(terminal, b"ecs-way-42 pivot root")
        terminal.write(b"stty size\n")
        read_until(terminal, b"20 90")
    finally:
        terminal.close()
    print(f"terminal opened in {opened:.2f} s")


def test_another_sessions_keys_open_nothing(ecs_session):
    _open(ecs_session, user="root").close()
    with pytest.raises(RuntimeFailure) as excinfo:
        gateway_terminal(
            INSTANCE,
            uuid.uuid4().hex,
            gateway_ip=ecs_session["gateway_ip"],
            machine_ip=ecs_session["machine_ip"],
            user="root",
        )
    # The other session's derived host key does not match: the gateway is refused before any login.
    assert "host key" in excinfo.value.message.lower(), excinfo.value.message
    assert "SSH server on port 22" in excinfo.value.message
