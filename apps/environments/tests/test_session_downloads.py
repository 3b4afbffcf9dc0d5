"""The session page lists the version's downloads, and the lab's player may fetch them."""

import pytest
from django.core.files.base import ContentFile

from apps.accounts.factories import UserFactory, login_client
from apps.environments import services
from apps.environments.factories import pivot_version
from apps.scenarios.models import ScenarioAsset

pytestmark = pytest.mark.django_db


def test_the_session_page_lists_downloads_and_they_download():
    version = pivot_version()
    asset = ScenarioAsset(scenario_version=version, asset_type="download", file_name="traffic.pcap", file_size=4)
    asset.file.save("traffic.pcap", ContentFile(b"\xd4\xc3\xb2\xa1"), save=False)
    asset.save()
    solver = UserFactory()
    session = services.env_session_start(user=solver, version=version)
    client = login_client(solver)
    page = client.get(f"/sessions/{session.pk}/").content.decode()
    url = f"/scenarios/downloads/file/{asset.pk}/"
    assert 'id="downloads"' in page and url in page and "traffic.pcap" in page
    response = client.get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"\xd4\xc3\xb2\xa1"
    assert 'filename="traffic.pcap"' in response["Content-Disposition"]
