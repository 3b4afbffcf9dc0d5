"""manage.py build_images: the local images RangeX's tests and demo run (moved from the runtime tests)."""

from __future__ import annotations

import io
import subprocess
import tarfile

import pytest
from django.core.management import call_command

from apps.images.management.commands.build_images import BUSYBOX, busybox_rootfs_tar

pytestmark = pytest.mark.docker


@pytest.fixture(scope="session")
def busybox_image():
    if subprocess.run(["docker", "image", "inspect", BUSYBOX], capture_output=True).returncode != 0:
        call_command("build_images", "--set", "test")
    return BUSYBOX


def test_build_images_skips_an_image_that_is_present(busybox_image):
    out = io.StringIO()
    call_command("build_images", "--set", "test", stdout=out)
    assert f"[1/1] {BUSYBOX}: present, skipped" in out.getvalue()


def test_busybox_rootfs_has_applets_and_a_player_user():
    with tarfile.open(fileobj=io.BytesIO(busybox_rootfs_tar())) as tar:
        members = {m.name: m for m in tar.getmembers()}
        passwd = tar.extractfile("etc/passwd").read().decode()
    for applet in ("sh", "nc", "wget", "ip", "cat", "id", "sleep"):
        assert members[f"bin/{applet}"].linkname == "busybox"
    assert members["tmp"].mode == 0o1777
    assert "player:x:1000:1000:" in passwd
