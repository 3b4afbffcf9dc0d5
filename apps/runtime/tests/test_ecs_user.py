"""A machine with files whose image (or machine) user is not root, on ECS: the container starts as
root with only the capabilities placing the files needs, and the wrapper drops to the user with every
capability cleared. Moto for the task definition; the real wrapper run on the local engine."""

from __future__ import annotations

import subprocess
import uuid

import pytest

from apps.runtime import FileSpec
from apps.runtime.ecs_aws import (
    FARGATE_DEFAULT_CAPS,
    FILES_MOUNT,
    WRAPPER_AS,
    WRAPPER_CAPS,
    files_bundle,
)
from apps.runtime.tests.helpers import BUSYBOX
from apps.runtime.tests.test_ecr import _image_in_ecr, _victim_definition, _victim_spec, runtime  # noqa: F401

VICTIM_WEB = "rangex/victim-web:latest"
# No procps in the image: the service's pid from /proc (its command line names server.py).
FIND_SERVICE = (
    'for p in /proc/[0-9]*; do case "$(tr "\\0" " " < "$p/cmdline")" in "python3 /opt/victim/server.py"*) '
    'echo "${p#/proc/}";; esac; done 2>/dev/null; true'
)
FLAG = [FileSpec("/srv/flag.txt", b"RX{user}\n", 0o600, owner="www-data")]


def test_a_non_root_image_with_files_starts_as_root_and_drops_to_its_user(runtime):  # noqa: F811
    image = _image_in_ecr(record={"cmd": ["python3", "/opt/victim/server.py"], "user": "www-data"})

    machine = _victim_definition(runtime, _victim_spec(image))["containerDefinitions"][0]

    assert machine["user"] == "0"
    assert machine["entryPoint"] == ["/bin/sh", "-c", WRAPPER_AS, "rangex-start"]
    assert machine["command"] == ["www-data", "", "-all", "python3", "/opt/victim/server.py"]
    caps = machine["linuxParameters"]["capabilities"]
    assert sorted(caps["drop"]) == sorted(set(FARGATE_DEFAULT_CAPS) - set(WRAPPER_CAPS))
    assert not caps.get("add")  # Fargate adds nothing but SYS_PTRACE


def test_a_root_image_with_files_keeps_every_capability_dropped(runtime):  # noqa: F811
    image = _image_in_ecr(record={"cmd": ["sleep", "infinity"], "user": ""})
    machine = _victim_definition(runtime, _victim_spec(image))["containerDefinitions"][0]
    assert "user" not in machine
    assert machine["linuxParameters"]["capabilities"]["drop"] == ["ALL"]
    assert machine["command"] == ["sleep", "infinity"]


def _run(*argv: str, stdin: bytes | None = None, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(["docker", *argv], input=stdin, capture_output=True)
    assert not check or done.returncode == 0, done.stderr.decode()
    return done


def _wrapped(image: str, user: str, command: list[str], files: list[FileSpec]) -> tuple[str, str]:
    """(container, volume): ``image`` run the way the ECS task runs it, the files volume filled as
    the init container fills it (``files_bundle`` unpacked by busybox)."""
    label = ["--label", f"rangex.test=ecsuser-{uuid.uuid4().hex[:8]}"]
    volume = _run("volume", "create", *label).stdout.decode().strip()
    _run("run", "--rm", "-i", "-v", f"{volume}:{FILES_MOUNT}", BUSYBOX, "tar", "-x", "-f", "-", "-C", FILES_MOUNT,
         stdin=files_bundle(files))  # fmt: skip
    caps = [f"--cap-drop={c}" for c in sorted(set(FARGATE_DEFAULT_CAPS) - set(WRAPPER_CAPS))]
    container = _run(
        "run", "-d", *label, "--user", "0", *caps, "-v", f"{volume}:{FILES_MOUNT}", "--init",
        "--entrypoint", "/bin/sh", image, "-c", WRAPPER_AS, "rangex-start", user, "", "-all", *command,
    ).stdout.decode().strip()  # fmt: skip
    return container, volume


def _status(container: str, pid: str) -> dict:
    text = _run("exec", "--user", "0", container, "cat", f"/proc/{pid}/status").stdout.decode()
    return dict(line.split(":\t", 1) for line in text.splitlines() if ":\t" in line)


def _cleanup(container: str, volume: str) -> None:
    subprocess.run(["docker", "rm", "-f", container], capture_output=True)
    subprocess.run(["docker", "volume", "rm", volume], capture_output=True)


@pytest.mark.docker
@pytest.mark.parametrize("user, ids", [("www-data", ("33", "33")), ("4242", ("4242", "0"))], ids=["name", "bare-uid"])
def test_the_wrapper_places_the_flag_and_runs_the_service_as_the_user_with_no_capabilities(user, ids):
    if _run("image", "inspect", VICTIM_WEB, check=False).returncode != 0:
        pytest.skip("rangex/victim-web is not built")
    container, volume = _wrapped(VICTIM_WEB, user, ["python3", "/opt/victim/server.py"], FLAG)
    try:
        for _ in range(50):
            found = _run("exec", container, "sh", "-c", FIND_SERVICE).stdout.decode().split()
            if found:
                break
            subprocess.run(["sleep", "0.2"])
        assert found, _run("logs", container).stderr.decode()
        stat = _run("exec", container, "stat", "-c", "%U %a", "/srv/flag.txt").stdout.decode().split()
        assert stat == ["www-data", "600"]
        status = _status(container, found[0])
        assert (status["Uid"].split()[0], status["Gid"].split()[0]) == ids
        for key in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
            assert int(status[key], 16) == 0, (key, status[key])
        assert _run("exec", container, "ls", FILES_MOUNT).stdout.decode().split() == []
    finally:
        _cleanup(container, volume)


@pytest.mark.docker
def test_busybox_has_no_setpriv_to_drop_with_so_the_wrapper_refuses_clearly(busybox_image):
    container, volume = _wrapped(BUSYBOX, "nobody", ["sleep", "infinity"], [FileSpec("/f", b"x", 0o600)])
    try:
        assert _run("wait", container).stdout.decode().strip() == "126"
        assert "no util-linux setpriv" in _run("logs", container).stderr.decode()
    finally:
        _cleanup(container, volume)
