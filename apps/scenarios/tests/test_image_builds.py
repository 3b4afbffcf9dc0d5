"""Build contexts and tools of machines: carried by bundles, refused when unsafe, counted, shown."""

from __future__ import annotations

import io
import stat
import tarfile
import zipfile

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.scenarios import services, tools
from apps.scenarios.bundles import bundle_export
from apps.scenarios.factories import draft_version
from apps.scenarios.image_builds import (
    context_tar,
    machine_build_context,
    machine_image_tag,
    read_context_tar,
)
from apps.scenarios.imports import bundle_import
from apps.scenarios.models import Machine, Tool
from rangex.core.errors import ValidationFailed

pytestmark = pytest.mark.django_db

DOCKERFILE = b"FROM rangex/busybox:latest\nCOPY app.sh /srv/app.sh\n"


def _bundle(version, *, extra: dict[str, bytes] | None = None, build: str | None = "build/web", tools=None) -> bytes:
    """Return a bundle of ``version`` whose machine ``web`` builds from ``build`` (files given in ``extra``)."""
    data = bundle_export(version=version)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    manifest = yaml.safe_load(files["scenario.yaml"])
    for row in manifest["machines"]:
        if row["name"] == "web":
            if build is not None:
                row["build"] = build
            if tools is not None:
                row["tools"] = tools
    files["scenario.yaml"] = yaml.safe_dump(manifest).encode()
    files.update(extra or {})
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return out.getvalue()


@pytest.fixture
def version():
    web = {"name": "web", "image_source_type": "custom", "image_ref": "rangex/busybox:latest"}
    return draft_version(machines=[web])


def test_a_bundle_carries_a_build_context_and_tools_through_export_and_import(version):
    tool = Tool.objects.create(name="hello", install_command="true")
    data = _bundle(
        version, extra={"build/web/Dockerfile": DOCKERFILE, "build/web/app.sh": b"echo hi\n"}, tools=["hello"]
    )
    imported = bundle_import(actor=version.scenario.created_by_user, data=data, filename="web.zip")
    machine = Machine.objects.get(scenario_version=imported, name="web")
    assert read_context_tar(machine.build_context.read(), where="test") == {
        "Dockerfile": DOCKERFILE,
        "app.sh": b"echo hi\n",
    }
    assert list(machine.tools.all()) == [tool]
    tool.refresh_from_db()
    assert tool.usage_count == 1
    # Export again: the same context and tools come back out, so the image tag does not move.
    again = bundle_import(
        actor=version.scenario.created_by_user, data=bundle_export(version=imported), filename="again.zip"
    )
    copy = Machine.objects.get(scenario_version=again, name="web")
    assert machine_image_tag(copy) == machine_image_tag(machine)
    tool.refresh_from_db()
    assert tool.usage_count == 2


def test_tools_are_appended_to_the_dockerfile_or_installed_on_the_machines_image(version):
    machine = Machine.objects.get(scenario_version=version, name="web")
    assert machine_build_context(machine) is None
    tool = Tool.objects.create(name="nmap", package_name="nmap", package_manager="apt")
    tools.machine_tools_set(machine=machine, tools=[tool], actor=version.scenario.created_by_user)
    files = read_context_tar(machine_build_context(machine), where="test")
    dockerfile = files["Dockerfile"].decode()
    assert dockerfile.startswith("FROM rangex/busybox:latest\n")
    assert "RUN apt-get update && apt-get install -y --no-install-recommends nmap" in dockerfile
    tool.refresh_from_db()
    assert tool.usage_count == 1
    # A new version keeps the tools, and counts once more.
    services.scenario_version_new(source=version, actor=version.scenario.created_by_user)
    tool.refresh_from_db()
    assert tool.usage_count == 2


def test_switched_off_tools_cannot_be_picked(version):
    machine = Machine.objects.get(scenario_version=version, name="web")
    tool = Tool.objects.create(name="old", install_command="true", is_active=False)
    with pytest.raises(ValidationFailed, match="switched off"):
        tools.machine_tools_set(machine=machine, tools=[tool], actor=version.scenario.created_by_user)


def test_a_bundle_build_folder_outside_the_bundle_is_refused(version):
    data = _bundle(version, build="../etc")
    with pytest.raises(ValidationFailed, match=r"machines\[0\]\.build"):
        bundle_import(actor=version.scenario.created_by_user, data=data, filename="bad.zip")


def test_a_bundle_build_context_without_a_dockerfile_is_refused(version):
    data = _bundle(version, extra={"build/web/app.sh": b"echo hi\n"})
    with pytest.raises(ValidationFailed, match="no Dockerfile"):
        bundle_import(actor=version.scenario.created_by_user, data=data, filename="bad.zip")


def test_an_oversized_file_in_a_build_context_is_refused(version, settings):
    settings.RANGEX_MAX_BUILD_FILE_BYTES = 1024
    data = _bundle(version, extra={"build/web/Dockerfile": DOCKERFILE, "build/web/big.bin": b"x" * 2048})
    with pytest.raises(ValidationFailed, match=r"big\.bin' is larger than"):
        bundle_import(actor=version.scenario.created_by_user, data=data, filename="bad.zip")
    assert not Machine.objects.exclude(build_context="").exists()


def test_a_symlink_in_a_bundles_build_context_is_refused(version):
    data = _bundle(version, extra={"build/web/Dockerfile": DOCKERFILE})
    out = io.BytesIO(data)
    with zipfile.ZipFile(out, "a") as archive:
        link = zipfile.ZipInfo("build/web/passwd")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
    with pytest.raises(ValidationFailed, match="symbolic link"):
        bundle_import(actor=version.scenario.created_by_user, data=out.getvalue(), filename="bad.zip")


def _tar(entries) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for info, content in entries:
            tar.addfile(info, io.BytesIO(content) if content is not None else None)
    return out.getvalue()


def _file(name: str, content: bytes):
    info = tarfile.TarInfo(name)
    info.size = len(content)
    return info, content


def _link(name: str, target: str, kind=tarfile.SYMTYPE):
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info, None


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ([_file("Dockerfile", DOCKERFILE), _file("../escape", b"x")], "absolute path or '..'"),
        ([_file("Dockerfile", DOCKERFILE), _file("/etc/cron.d/x", b"x")], "absolute path or '..'"),
        ([_file("Dockerfile", DOCKERFILE), _link("shadow", "/etc/shadow")], "is a link"),
        ([_file("Dockerfile", DOCKERFILE), _link("hard", "../../etc/shadow", tarfile.LNKTYPE)], "is a link"),
        ([_file("app.sh", b"echo\n")], "no Dockerfile"),
    ],
    ids=["traversal", "absolute", "symlink", "hardlink", "no-dockerfile"],
)
def test_an_uploaded_context_tar_with_unsafe_entries_is_refused(version, entries, message):
    machine = Machine.objects.get(scenario_version=version, name="web")
    machine.build_context = SimpleUploadedFile("context.tar", _tar(entries))
    with pytest.raises(ValidationFailed, match=message) as caught:
        services.scenario_version_component_save(version=version, actor=version.scenario.created_by_user, obj=machine)
    assert "build_context" in caught.value.fields


def test_an_uploaded_context_is_stored_once_in_its_deterministic_form(version):
    machine = Machine.objects.get(scenario_version=version, name="web")
    machine.build_context = SimpleUploadedFile("context.tar", _tar([_file("Dockerfile", DOCKERFILE)]))
    services.scenario_version_component_save(version=version, actor=version.scenario.created_by_user, obj=machine)
    machine.refresh_from_db()
    assert machine.build_context.name == f"build-contexts/{machine.build_context_hash}.tar"
    assert machine.build_context.read() == context_tar({"Dockerfile": DOCKERFILE})


def _zip(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return out.getvalue()


def test_a_compose_services_build_folder_in_the_upload_becomes_its_build_context(creator):
    compose = b"name: built-lab\nservices:\n  web:\n    build: ./web\n  db:\n    image: rangex/busybox:latest\n"
    data = _zip({"lab/docker-compose.yml": compose, "lab/web/Dockerfile": DOCKERFILE, "lab/web/app.sh": b"echo\n"})
    version = bundle_import(actor=creator, data=data, filename="lab.zip")
    web = Machine.objects.get(scenario_version=version, name="web")
    assert read_context_tar(web.build_context.read(), where="test") == {"Dockerfile": DOCKERFILE, "app.sh": b"echo\n"}
    assert not Machine.objects.get(scenario_version=version, name="db").build_context


def test_a_ctfcli_challenge_with_its_dockerfile_is_built_from_its_folder(creator):
    challenge = b"name: Local\ncategory: web\nflags: [x]\nimage: .\n"
    data = _zip({"web/challenge.yml": challenge, "web/Dockerfile": DOCKERFILE, "web/app.sh": b"echo\n"})
    version = bundle_import(actor=creator, data=data, filename="ctf.zip")
    machine = Machine.objects.get(scenario_version=version)
    files = read_context_tar(machine.build_context.read(), where="test")
    assert files["Dockerfile"] == DOCKERFILE and "app.sh" in files
