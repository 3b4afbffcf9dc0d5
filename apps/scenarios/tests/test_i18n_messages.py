"""Errors of the ApplicationError family are translated when they are raised: Malay in, Malay out.

The catalog is compiled into a temporary folder (compiled catalogs are not committed). Services
follow the active language (``translation.override``); a request chooses it with
``Accept-Language: ms`` through LocaleMiddleware.
"""

import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import translation

from apps.scenarios.factories import published_version
from apps.scenarios.social import scenario_rate
from rangex.core.errors import PermissionDenied, ValidationFailed

pytestmark = pytest.mark.django_db

NOT_PLAYED_MS = "Anda boleh menilai senario ini setelah anda menamatkan satu sesinya."


@pytest.fixture
def malay_catalog(tmp_path):
    if shutil.which("msgfmt") is None:
        pytest.skip("msgfmt (gettext) is not installed")
    source = Path(settings.BASE_DIR) / "locale" / "ms" / "LC_MESSAGES" / "django.po"
    target = tmp_path / "ms" / "LC_MESSAGES"
    target.mkdir(parents=True)
    subprocess.run(["msgfmt", "--check", "-o", str(target / "django.mo"), str(source)], check=True)
    # Changing LOCALE_PATHS empties Django's translation caches, so the catalog just compiled is read.
    languages = [("en", "English"), ("ms", "Bahasa Melayu")]
    with override_settings(LOCALE_PATHS=[tmp_path], LANGUAGES=languages):
        yield


def test_a_service_error_reads_in_malay_when_malay_is_active(malay_catalog, solver):
    scenario = published_version(slug="belum-dimainkan").scenario
    with translation.override("ms"), pytest.raises(PermissionDenied) as exc:
        scenario_rate(user=solver, scenario=scenario, rating=5)
    assert exc.value.message == NOT_PLAYED_MS
    with translation.override("ms"), pytest.raises(ValidationFailed) as exc:
        scenario_rate(user=solver, scenario=scenario, rating=9)
    assert exc.value.message == "Penilaian ialah nombor bulat dari 1 hingga 5."
    assert exc.value.fields == {"rating": ["Penilaian ialah nombor bulat dari 1 hingga 5."]}


def test_the_same_error_stays_english_by_default(malay_catalog, solver):
    scenario = published_version(slug="not-played").scenario
    with pytest.raises(PermissionDenied) as exc:
        scenario_rate(user=solver, scenario=scenario, rating=5)
    assert exc.value.message == "You can rate this scenario once you have finished a session of it."


def test_an_api_error_body_reads_in_malay_with_accept_language(malay_catalog, solver_client):
    published_version(slug="api-ms")
    url = "/api/v1/scenarios/{}/rating/"
    api = solver_client.put(
        url.format("api-ms"), {"rating": 5}, content_type="application/json", HTTP_ACCEPT_LANGUAGE="ms"
    )
    missing = solver_client.put(
        url.format("tiada"), {"rating": 5}, content_type="application/json", HTTP_ACCEPT_LANGUAGE="ms"
    )
    english = solver_client.put(url.format("api-ms"), {"rating": 5}, content_type="application/json")
    assert api.status_code == 403
    assert api.json()["error"] == {"code": "permission_denied", "message": NOT_PLAYED_MS}
    assert missing.status_code == 404
    assert missing.json()["error"]["message"].startswith("Tiada ")
    assert english.json()["error"]["message"] == "You can rate this scenario once you have finished a session of it."
