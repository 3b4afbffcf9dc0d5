"""The admin dashboard shows the space creators' files take against the platform limit."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.accounts.factories import CreatorFactory
from apps.scenarios import library
from rangex.core.system import system_settings_update

pytestmark = pytest.mark.django_db


def test_the_dashboard_shows_storage_used_and_the_limit(admin_client_2fa):
    creator = CreatorFactory()
    library.asset_upload(actor=creator, upload=SimpleUploadedFile("big.bin", b"x" * 2048))
    system_settings_update(actor=None, max_total_storage_bytes=4096)
    html = admin_client_2fa.get("/admin/").content.decode()
    assert 'id="rx-storage-used">2.0\xa0KB used' in html
    assert "of 4.0\xa0KB (max total storage)" in html and 'aria-valuenow="50"' in html
    assert creator.email in html
