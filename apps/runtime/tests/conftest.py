import subprocess

import pytest
from django.core.management import call_command

from apps.runtime.tests.helpers import BUSYBOX


@pytest.fixture(scope="session")
def busybox_image():
    """The small test image every Docker test runs (manage.py build_images --set test)."""
    if subprocess.run(["docker", "image", "inspect", BUSYBOX], capture_output=True).returncode != 0:
        call_command("build_images", "--set", "test")
    return BUSYBOX


@pytest.fixture(scope="session")
def gateway_image():
    """The session SSH gateway image (manage.py build_images --set gateway)."""
    image = "rangex/gateway:latest"
    if subprocess.run(["docker", "image", "inspect", image], capture_output=True).returncode != 0:
        call_command("build_images", "--set", "gateway")
    return image
