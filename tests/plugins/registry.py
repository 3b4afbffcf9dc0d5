"""A real staging and production registry for the image pipeline's tests.

Two Debian ``docker-registry`` processes with htpasswd auth on loopback ports, each with a temporary
config and storage (``apps.runtime.tests.helpers.local_registry``; deploy/lib.sh installs the
packages), started for the test and stopped after it; their logins are RegistryCredential rows.
"""

from __future__ import annotations

import uuid
from contextlib import ExitStack
from dataclasses import dataclass

import pytest

from apps.images.models import RegistryCredential
from apps.runtime.tests.helpers import local_registry


@dataclass
class Registries:
    staging: str  # host:port
    production: str
    username: str
    password: str


@pytest.fixture
def image_registries(settings, test_image):
    """Start a staging and a production registry and point the pipeline at them."""
    username, password = "pipeline", f"Pipe-{uuid.uuid4().hex[:12]}"
    with ExitStack() as stack:
        staging = stack.enter_context(local_registry(username, password))
        production = stack.enter_context(local_registry(username, password))
        settings.RANGEX_IMAGE_STAGING_REPOSITORY = f"{staging}/rangex-staging"
        settings.RANGEX_IMAGE_PRODUCTION_REPOSITORY = f"{production}/rangex"
        for label, address in (("staging", staging), ("production", production)):
            RegistryCredential.objects.create(
                label=label, registry_url=f"http://{address}", username_enc=username, password_or_token_enc=password
            )
        yield Registries(staging=staging, production=production, username=username, password=password)


@pytest.fixture
def pipeline_instance(settings):
    """A RANGEX_INSTANCE of the test's own: it sees (and prunes) only the images it built."""
    settings.RANGEX_INSTANCE = f"rxpipe{uuid.uuid4().hex[:8]}"
    yield settings.RANGEX_INSTANCE
    from apps.runtime.images import get_image_engine

    engine = get_image_engine()
    for image in engine.list_managed():
        engine.remove(image)
