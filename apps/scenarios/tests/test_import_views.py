"""The studio import page: access, inline imports, background imports, clear errors."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.scenarios.models import ScenarioVersion
from rangex.core.models import Job

DATA = Path(__file__).parent / "data" / "ctfd"
URL = "/studio/import/"


def challenge_upload(name="regex-login"):
    return SimpleUploadedFile("challenge.yml", (DATA / name / "challenge.yml").read_bytes())


def test_anonymous_is_sent_to_login(client, db):
    response = client.get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_solver_is_refused(solver_client):
    assert solver_client.get(URL).status_code == 403


def test_creator_without_verified_second_factor_is_sent_to_2fa(creator):
    from apps.accounts.factories import login_client

    response = login_client(creator).get(URL)
    assert response.status_code == 302 and "/accounts/2fa/" in response["Location"]


def test_creator_imports_a_small_challenge_inline(creator_client, creator):
    assert creator_client.get(URL).status_code == 200
    response = creator_client.post(URL, {"bundle": challenge_upload()})
    assert response.status_code == 200
    version = ScenarioVersion.objects.get(scenario__slug="regex-login")
    assert version.scenario.created_by_user == creator
    assert b"regex-login" in response.content and b"/admin/" in response.content


def test_errors_name_file_line_and_field(creator_client):
    upload = SimpleUploadedFile("challenge.yml", (DATA / "broken" / "traversal" / "challenge.yml").read_bytes())
    response = creator_client.post(URL, {"bundle": upload})
    assert response.status_code == 400
    assert b"challenge.yml, line 7, files[0]" in response.content
    assert not ScenarioVersion.objects.exists()


def test_mistyped_upload_is_refused(creator_client):
    response = creator_client.post(URL, {"bundle": SimpleUploadedFile("evil.exe", b"MZ")})
    assert response.status_code == 400 and b"Upload a .zip, .yml or .yaml file." in response.content


def test_large_upload_runs_as_a_job(admin_client_2fa, django_capture_on_commit_callbacks):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.write(DATA / "pwn-echo" / "challenge.yml", "pwn/challenge.yml")
        archive.writestr("pwn/padding.bin", b"\x01" * (6 * 1024 * 1024))
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_2fa.post(URL, {"bundle": SimpleUploadedFile("big.zip", out.getvalue())})
    assert response.status_code == 302
    job = Job.objects.get(type="scenario_import")
    assert job.status == "succeeded", job.error
    assert job.result["versions"][0]["slug"] == "echo-chamber"
    assert not any((Path(settings.VAR_DIR) / "private" / "imports").iterdir())
    page = admin_client_2fa.get(response["Location"])
    assert page.status_code == 200 and b"Continue" in page.content
    partial = admin_client_2fa.get(f"/ops/jobs/{job.pk}/", headers={"HX-Request": "true"})
    assert partial.status_code == 200 and b"job-progress" in partial.content


def test_failed_job_shows_the_error(admin_client_2fa, django_capture_on_commit_callbacks):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.write(DATA / "broken" / "bad-flag-type" / "challenge.yml", "bad/challenge.yml")
        archive.writestr("bad/padding.bin", b"\x01" * (6 * 1024 * 1024))
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_2fa.post(URL, {"bundle": SimpleUploadedFile("big.zip", out.getvalue())})
    job = Job.objects.get(type="scenario_import")
    assert job.status == "failed" and "bad/challenge.yml, line 6, flags[1].type" in job.error
    page = admin_client_2fa.get(response["Location"])
    assert b"Unknown flag type" in page.content


CORPUS = Path(__file__).parent / "data" / "corpus"


def corpus_zip(*names) -> SimpleUploadedFile:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name in names:
            for path in sorted((CORPUS / name).rglob("*")):
                if path.is_file():
                    archive.write(path, f"{name}/{path.relative_to(CORPUS / name).as_posix()}")
    return SimpleUploadedFile("many.zip", out.getvalue())


def test_page_reports_every_refusal_and_warning_and_imports_nothing_without_partial(creator_client):
    response = creator_client.post(URL, {"bundle": corpus_zip("warmup", "unknown-keys", "refused/missing-file")})
    assert response.status_code == 400
    page = response.content.decode()
    assert "0 imported, 1 refused" in page and "refused/missing-file/challenge.yml, line 7, files[0]" in page
    assert "valid, not imported" in page and "Did you mean &#x27;description&#x27;?" in page
    assert not ScenarioVersion.objects.exists()


def test_page_partial_checkbox_imports_the_valid_ones(creator_client):
    upload = corpus_zip("warmup", "unknown-keys", "refused/missing-file")
    response = creator_client.post(URL, {"bundle": upload, "partial": "on"})
    assert response.status_code == 200 and "2 imported, 1 refused" in response.content.decode()
    assert set(ScenarioVersion.objects.values_list("scenario__slug", flat=True)) == {"warmup", "typos"}


def test_page_new_version_of_adds_a_version(creator_client):
    creator_client.post(URL, {"bundle": corpus_zip("warmup")})
    response = creator_client.post(URL, {"bundle": corpus_zip("warmup"), "new_version_of": "warmup"})
    assert "new version of warmup" in response.content.decode()
    assert ScenarioVersion.objects.filter(scenario__slug="warmup").count() == 2


def test_api_answers_with_the_report(creator):
    from rest_framework.test import APIClient

    from apps.accounts.services import api_token_create

    _, raw = api_token_create(user=creator, label="tests", expires_in_days=None)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    refused = api.post(
        "/api/v1/creator/imports/", {"file": corpus_zip("warmup", "refused/no-flags")}, format="multipart"
    )
    assert refused.status_code == 400 and refused.json()["refused"] == 1
    body = api.post(
        "/api/v1/creator/imports/", {"file": corpus_zip("unknown-keys"), "partial": "true"}, format="multipart"
    ).json()
    [entry] = body["entries"]
    assert body["imported"] == 1 and entry["status"] == "imported" and entry["outcome"] == "new scenario"
    assert any("decription" in w and "line 4" in w for w in entry["warnings"])
