"""get_runtime(key): several backends at once, each under a stable key a session can record."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.conf import settings

from apps.runtime import (
    RuntimeFailure,
    RuntimeNotConfigured,
    configured_runtimes,
    default_runtime_key,
    get_runtime,
)
from apps.runtime.docker import DockerRuntime
from apps.runtime.fake import FakeRuntime


def test_every_configured_key_resolves_to_its_own_backend():
    assert configured_runtimes() == ["docker", "fake"]
    assert default_runtime_key() == "docker"
    docker, fake = get_runtime("docker"), get_runtime("fake")
    assert isinstance(docker, DockerRuntime) and docker.key == "docker"
    assert isinstance(fake, FakeRuntime) and fake.key == "fake"
    assert get_runtime() is docker
    assert get_runtime("fake") is fake
    assert docker.instance == fake.instance == settings.RANGEX_INSTANCE


def test_a_stored_class_name_or_dotted_path_resolves_to_its_key():
    assert get_runtime("DockerRuntime") is get_runtime("docker")
    assert get_runtime("apps.runtime.docker.DockerRuntime") is get_runtime("docker")
    assert get_runtime("FakeRuntime") is get_runtime("fake")


def test_an_unknown_key_is_refused_permanently_and_names_what_is_configured():
    with pytest.raises(RuntimeNotConfigured) as excinfo:
        get_runtime("ecs")
    assert isinstance(excinfo.value, RuntimeFailure)
    assert excinfo.value.permanent and excinfo.value.key == "ecs"
    assert "'ecs'" in excinfo.value.message and "docker, fake" in excinfo.value.message


def test_another_docker_engine_can_be_configured_under_its_own_key(settings):
    settings.RANGEX_RUNTIMES = {
        **settings.RANGEX_RUNTIMES,
        "remote": {"BACKEND": "apps.runtime.docker.DockerRuntime", "OPTIONS": {"base_url": "tcp://10.9.9.9:2376"}},
    }
    remote = get_runtime("remote")
    assert remote.key == "remote" and remote.base_url == "tcp://10.9.9.9:2376"
    assert remote is not get_runtime("docker")
    assert configured_runtimes() == ["docker", "fake", "remote"]


def test_the_default_backend_follows_the_legacy_settings(settings):
    settings.RANGEX_DOCKER_URL = "unix:///tmp/rangex-elsewhere.sock"
    assert get_runtime().base_url == "unix:///tmp/rangex-elsewhere.sock"
    settings.RANGEX_RUNTIME_BACKEND = "apps.runtime.fake.FakeRuntime"
    assert isinstance(get_runtime(), FakeRuntime) and get_runtime().key == "docker"


@pytest.mark.parametrize(
    "runtimes, expected",
    [
        ({"Bad Key": {"BACKEND": "apps.runtime.fake.FakeRuntime"}}, "malformed"),
        ({"nobackend": {"OPTIONS": {}}}, "needs a BACKEND"),
        ({"wrong": {"BACKEND": "apps.runtime.nowhere.Runtime"}}, "cannot be loaded"),
        ({"wrong": {"BACKEND": "apps.runtime.fake.FakeRuntime", "OPTIONS": {"colour": "red"}}}, "OPTIONS"),
    ],
)
def test_a_broken_configuration_is_a_clear_refusal(settings, runtimes, expected):
    settings.RANGEX_RUNTIMES = runtimes
    key = next(iter(runtimes))
    with pytest.raises(RuntimeNotConfigured) as excinfo:
        get_runtime(key)
    assert expected in excinfo.value.message


def test_the_fake_runtime_refuses_to_load_unless_allowed(settings):
    settings.RANGEX_ALLOW_FAKE_RUNTIME = False
    with pytest.raises(RuntimeNotConfigured) as excinfo:
        get_runtime("fake")
    assert "shells on this host" in excinfo.value.message
    assert isinstance(get_runtime("docker"), DockerRuntime)


@pytest.mark.parametrize(
    "value, message",
    [
        ("[1, 2]", "RANGEX_RUNTIMES is malformed"),
        ('{"ok": {"BACKEND": 3}}', "RANGEX_RUNTIMES is malformed at 'ok'"),
        ('{"x": {"BACKEND": "a.B", "EXTRA": 1}}', "RANGEX_RUNTIMES is malformed at 'x'"),
    ],
)
def test_settings_refuse_malformed_runtimes_at_start_up(value, message):
    env = {**os.environ, "RANGEX_RUNTIMES": value, "DJANGO_SETTINGS_MODULE": "rangex.settings_test"}
    done = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        capture_output=True,
        text=True,
        env=env,
        cwd=settings.BASE_DIR,
    )
    assert done.returncode != 0
    assert message in done.stderr
