"""Library assets attached as machine files are copied into the machine at launch, like version assets."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.environments.launch import build_launch_spec
from apps.environments.models import EnvironmentSession
from apps.scenarios import library
from apps.scenarios.factories import draft_version

pytestmark = pytest.mark.django_db


def _upload(user, name="rockyou-mini.txt", content=b"password\n123456\n"):
    return library.asset_upload(actor=user, upload=SimpleUploadedFile(name, content))


def test_library_machine_files_reach_the_launch_spec():
    version = draft_version(machines=[{"name": "target"}])
    creator = version.scenario.created_by_user
    asset = _upload(creator)
    library.asset_attach(
        version=version,
        asset=asset,
        actor=creator,
        asset_type="machine_file",
        machine=version.machines.get(),
        target_path="/opt/words.txt",
        permissions="0600",
    )
    session = EnvironmentSession(user=creator, scenario_version=version)
    spec = build_launch_spec(session)
    files = {f.path: f for f in spec.machines[0].files}
    assert files["/opt/words.txt"].content == b"password\n123456\n" and files["/opt/words.txt"].mode == 0o600
