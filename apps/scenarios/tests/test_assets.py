"""Asset uploads: size and quota caps, and types their fields must agree with."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.scenarios import services
from apps.scenarios.factories import draft_version
from apps.scenarios.models import ScenarioAsset
from rangex.core.errors import ValidationFailed
from rangex.core.system import system_settings_update

pytestmark = pytest.mark.django_db


def _save(version, **fields):
    asset = ScenarioAsset(
        file=SimpleUploadedFile(fields.pop("name", "notes.txt"), fields.pop("content", b"hello")), **fields
    )
    return services.scenario_version_component_save(version=version, actor=version.scenario.created_by_user, obj=asset)


def test_a_download_is_stored_with_size_and_digest():
    version = draft_version()
    asset = _save(version, asset_type="download")
    assert asset.file_size == 5 and len(asset.sha256) == 64 and asset.file_name == "notes.txt"


def test_a_machine_file_needs_a_machine_and_an_absolute_path():
    version = draft_version()
    with pytest.raises(ValidationFailed) as exc:
        _save(version, asset_type="machine_file", target_path="relative/path")
    assert set(exc.value.fields) == {"machine", "target_path"}
    machine = version.machines.first()
    asset = _save(version, asset_type="machine_file", machine=machine, target_path="/srv/notes.txt")
    assert asset.machine == machine


def test_a_download_cannot_name_a_machine_path():
    version = draft_version()
    with pytest.raises(ValidationFailed) as exc:
        _save(version, asset_type="download", target_path="/srv/x")
    assert "asset_type" in exc.value.fields


def test_the_storage_quota_refuses_with_a_clear_message():
    version = draft_version()
    system_settings_update(actor=None, max_storage_per_user_bytes=8)
    _save(version, asset_type="download", content=b"12345")
    with pytest.raises(ValidationFailed, match="quota"):
        _save(version, asset_type="download", name="two.txt", content=b"12345")
    assert version.assets.count() == 1


def test_an_oversize_file_is_refused(settings):
    settings.RANGEX_MAX_ASSET_BYTES = 4
    version = draft_version()
    with pytest.raises(ValidationFailed, match="at most"):
        _save(version, asset_type="download")
