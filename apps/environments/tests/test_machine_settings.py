"""Machines get what their version says (credentials, registry logins) within the install's limits."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO

import pytest
from passlib.hash import sha512_crypt

from apps.accounts.factories import UserFactory
from apps.environments import services
from apps.environments.factories import TEST_IMAGE, pivot_version
from apps.environments.launch import build_launch_spec
from apps.environments.models import SessionStatus
from apps.images.models import ImageVariant, RegistryCredential
from apps.runtime import AccountSpec, get_runtime
from apps.runtime.fake import FakeRuntime
from apps.scenarios.models import Machine
from rangex.core.errors import LimitExceeded
from rangex.core.system import system_settings_update

pytestmark = pytest.mark.django_db


@pytest.fixture
def fake(settings):
    FakeRuntime.reset_all()
    settings.RANGEX_RUNTIMES = {"fake": {"BACKEND": "apps.runtime.fake.FakeRuntime"}}
    settings.RANGEX_DEFAULT_RUNTIME = "fake"
    yield get_runtime("fake")
    FakeRuntime.reset_all()


def _start(version, captured, user=None):
    with captured(execute=True):
        session = services.env_session_start(user=user or UserFactory(), version=version)
    session.refresh_from_db()
    return session


def test_the_machine_rows_ssh_login_works_in_the_container(
    runtime, settings, cleanup_sessions, django_capture_on_commit_callbacks
):
    settings.RANGEX_RUNTIMES = {}
    version = pivot_version()
    pivot = Machine.objects.get(scenario_version=version, name="pivot")
    pivot.ssh_username, pivot.ssh_password = "player", "pivot-demo"
    pivot.save(update_fields=["ssh_username", "ssh_password"])
    session = _start(version, django_capture_on_commit_callbacks)
    cleanup_sessions.append(session.pk)
    assert session.status == SessionStatus.RUNNING, session.reason_stopped
    shadow = runtime.run_command(str(session.pk), "pivot", ["cat", "/etc/shadow"]).output.decode()
    entry = next(line for line in shadow.splitlines() if line.startswith("player:"))
    assert sha512_crypt.verify("pivot-demo", entry.split(":")[1])
    assert "pivot-demo" not in shadow
    passwd = runtime.run_command(str(session.pk), "pivot", ["cat", "/etc/passwd"]).output.decode()
    assert any(line.startswith("player:") for line in passwd.splitlines())
    # Only the machine that asks for the login gets it.
    other = runtime.run_command(str(session.pk), "victim", ["cat", "/etc/shadow"]).output.decode()
    assert not any(line.startswith("player:$6$") for line in other.splitlines())


def test_the_demo_pivot_gets_the_login_its_hint_gives():
    from apps.accounts import demo as account_demo
    from apps.scenarios import demo

    account_demo.seed(StringIO())
    demo.seed(StringIO())
    pivot = Machine.objects.get(scenario_version__scenario__slug="pivot-point", name="pivot")
    session = services.env_session_start(user=UserFactory(), version=pivot.scenario_version)
    spec = build_launch_spec(session)
    machine = next(m for m in spec.machines if m.name == "pivot")
    assert machine.accounts == [AccountSpec(username="player", password="pivot-demo")]
    # An interactive ssh login also needs the pty handed over (CHOWN) and PAM's audit record
    # (AUDIT_WRITE): walked in the browser, sshd closed the connection after the password without them.
    assert {"SETUID", "SETGID", "SYS_CHROOT", "CHOWN", "AUDIT_WRITE"} <= set(machine.cap_add)


def test_per_machine_cpu_and_memory_caps_refuse_a_start_clearly(fake):
    version = pivot_version()
    system_settings_update(actor=None, docker_max_cpus_per_container=Decimal("0.1"))
    with pytest.raises(LimitExceeded, match=r"CPUs; this install allows at most 0\.1") as refused:
        services.env_session_start(user=UserFactory(), version=version)
    assert refused.value.limit == "docker_max_cpus_per_container"
    system_settings_update(
        actor=None, docker_max_cpus_per_container=Decimal("2"), docker_max_memory_mb_per_container=16
    )
    with pytest.raises(LimitExceeded, match="MB of memory; this install allows at most 16 MB") as refused:
        services.env_session_start(user=UserFactory(), version=version)
    assert refused.value.limit == "docker_max_memory_mb_per_container"
    system_settings_update(actor=None, docker_max_memory_mb_per_container=2048)
    assert services.env_session_start(user=UserFactory(), version=version).status == SessionStatus.STARTING


def test_max_concurrent_users_refuses_a_new_person_but_not_one_already_in(fake):
    system_settings_update(actor=None, max_concurrent_users=1, max_sessions_per_user=2)
    first, second = pivot_version(), pivot_version()
    inside = UserFactory()
    services.env_session_start(user=inside, version=first)
    with pytest.raises(LimitExceeded, match="limit of 1 people with running labs") as refused:
        services.env_session_start(user=UserFactory(), version=first)
    assert refused.value.limit == "max_concurrent_users"
    assert services.env_session_start(user=inside, version=second).status == SessionStatus.STARTING


def test_images_from_docker_hub_are_pulled_only_when_the_install_allows_it(fake, django_capture_on_commit_callbacks):
    fake.script.private_image(TEST_IMAGE, username="u", password="p")  # not on the engine
    version = pivot_version()
    session = _start(version, django_capture_on_commit_callbacks)
    assert session.status == SessionStatus.FAILED
    assert "would come from Docker Hub, which this install does not allow" in session.reason_stopped
    system_settings_update(actor=None, docker_enable_pull_from_hub=True)
    # Allowed now, the pull reaches the registry (which wants credentials).
    session = _start(version, django_capture_on_commit_callbacks)
    assert session.status == SessionStatus.FAILED and "without credentials" in session.reason_stopped


def test_registry_credentials_are_used_to_pull_a_private_image(fake, django_capture_on_commit_callbacks):
    private = "registry.example.test:5000/rangex/busybox:private"
    fake.script.private_image(private, username="puller", password="s3cret-token")
    version = pivot_version()
    ImageVariant.objects.filter(pk=Machine.objects.filter(scenario_version=version)[0].image_variant_id).update(
        image_ref=private
    )
    session = _start(version, django_capture_on_commit_callbacks)
    assert session.status == SessionStatus.FAILED and "without credentials" in session.reason_stopped
    RegistryCredential.objects.create(
        label="lab images",
        registry_url="https://registry.example.test:5000",
        username_enc="puller",
        password_or_token_enc="s3cret-token",
    )
    session = _start(version, django_capture_on_commit_callbacks)
    assert session.status == SessionStatus.RUNNING, session.reason_stopped
    assert fake.image_present(private)


def test_a_private_image_is_pulled_from_a_real_registry_with_the_stored_credentials(
    runtime, settings, cleanup_sessions, django_capture_on_commit_callbacks
):
    """Debian's docker-registry with htpasswd auth on 127.0.0.1, started by the harness."""
    from apps.runtime.tests.harness import DockerHarness

    settings.RANGEX_RUNTIMES = {}
    with DockerHarness().private_image(runtime, username="puller", password="Registry-Pass-7") as ref:
        version = pivot_version()
        variant = Machine.objects.filter(scenario_version=version)[0].image_variant_id
        ImageVariant.objects.filter(pk=variant).update(image_ref=ref)
        refused = _start(version, django_capture_on_commit_callbacks)
        cleanup_sessions.append(refused.pk)
        assert refused.status == SessionStatus.FAILED
        RegistryCredential.objects.create(
            label="local registry",
            registry_url=f"http://{ref.split('/', 1)[0]}",
            username_enc="puller",
            password_or_token_enc="Registry-Pass-7",
        )
        session = _start(version, django_capture_on_commit_callbacks)
        cleanup_sessions.append(session.pk)
        assert session.status == SessionStatus.RUNNING, session.reason_stopped
        assert runtime.image_present(ref)
        assert "Registry-Pass-7" not in (refused.reason_stopped or "")


# Transactional, as a request is: the start pings the engine only outside a transaction.
@pytest.mark.django_db(transaction=True)
def test_an_unreachable_backend_refuses_the_start_clearly_and_leaves_no_session(fake, settings):
    from apps.environments.models import EnvironmentSession
    from rangex.core.errors import ServiceUnavailable

    version = pivot_version()
    fake.script.unreachable = True
    with pytest.raises(ServiceUnavailable, match="lab engine does not answer"):
        services.env_session_start(user=UserFactory(), version=version)
    assert not EnvironmentSession.objects.exists()
    # The same for Docker with nothing on its socket.
    settings.RANGEX_DEFAULT_RUNTIME = "docker"
    settings.RANGEX_DOCKER_URL = "unix:///tmp/rangex-no-such-docker.sock"
    with pytest.raises(ServiceUnavailable, match="lab engine does not answer"):
        services.env_session_start(user=UserFactory(), version=version)
    assert not EnvironmentSession.objects.exists()
    settings.RANGEX_DEFAULT_RUNTIME = "fake"
    fake.script.unreachable = False
    session = services.env_session_start(user=UserFactory(), version=version)
    session.refresh_from_db()
    assert session.status == SessionStatus.RUNNING


def test_a_machine_marked_read_only_runs_with_a_read_only_root(
    runtime, settings, cleanup_sessions, django_capture_on_commit_callbacks
):
    settings.RANGEX_RUNTIMES = {}
    version = pivot_version()
    Machine.objects.filter(scenario_version=version, name="pivot").update(read_only_root=True)
    session = _start(version, django_capture_on_commit_callbacks)
    cleanup_sessions.append(session.pk)
    assert session.status == SessionStatus.RUNNING, session.reason_stopped
    planted = runtime.run_command(str(session.pk), "pivot", ["sh", "-c", "echo x > /etc/planted"])
    assert planted.exit_code != 0 and b"Read-only file system" in planted.output
    assert runtime.run_command(str(session.pk), "pivot", ["sh", "-c", "echo x > /tmp/notes"]).exit_code == 0
    # The version's other machines stay writable.
    assert runtime.run_command(str(session.pk), "victim", ["sh", "-c", "echo x > /etc/planted"]).exit_code == 0
