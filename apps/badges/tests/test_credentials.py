"""Badges as Open Badges 3.0 credentials: structure, signature, verification page, baking, privacy."""

from __future__ import annotations

import base64
import json

import pytest
from django.test import Client
from joserfc import jws
from joserfc.jwk import OKPKey

from apps.accounts.factories import AdminFactory, UserFactory
from apps.badges import credentials, services
from apps.badges.models import UserBadge
from apps.paths.factories import completed_session_row
from apps.scenarios.factories import published_version

pytestmark = pytest.mark.django_db


def _award(user=None):
    user = user or UserFactory(display_name="Bea Badger")
    version = published_version()
    badge = services.badge_create(
        actor=AdminFactory(), name="Web starter", description="Finished a web lab.", criteria="Complete the web lab.",
        requirements=[{"requirement_type": "complete_scenario", "scenario": version}],
    )  # fmt: skip
    completed_session_row(user=user, version=version)
    services.badges_evaluate_for(user=user, trigger="test")
    return UserBadge.objects.select_related("badge", "user").get(user=user, badge=badge)


@pytest.mark.filterwarnings("ignore:EdDSA is deprecated")
def test_the_credential_is_an_open_badges_3_credential_signed_with_the_published_key():
    award = _award()
    credential = credentials.credential_build(award=award, base_url="https://rangex.test")
    assert credential["@context"][0] == "https://www.w3.org/ns/credentials/v2"
    assert "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json" in credential["@context"]
    assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert (
        credential["issuer"]["type"] == ["Profile"]
        and credential["issuer"]["id"] == "https://rangex.test/badges/issuer/"
    )
    subject = credential["credentialSubject"]
    assert subject["type"] == ["AchievementSubject"]
    assert subject["achievement"]["type"] == ["Achievement"] and subject["achievement"]["name"] == "Web starter"
    assert subject["achievement"]["criteria"] == {"narrative": "Complete the web lab."}
    identity = subject["identifier"][0]
    assert identity["hashed"] and identity["identityHash"].startswith("sha256$")
    assert award.user.email not in json.dumps(credential)

    token = credentials.credential_sign(credential)
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert header["alg"] == "EdDSA" and header["typ"] == "vc+jwt"
    # Anyone can check it with the public JWK alone.
    keys = Client().get("/badges/issuer/jwks.json").json()["keys"]
    public = OKPKey.import_key(keys[0])
    assert json.loads(jws.deserialize_compact(token, public, algorithms=["EdDSA"]).payload) == credential
    assert credentials.credential_verify(token) == credential


def test_a_tampered_forged_or_revoked_credential_does_not_verify():
    award = _award()
    token = credentials.credential_sign(credentials.credential_build(award=award, base_url="https://rangex.test"))
    head, _payload, signature = token.split(".")
    other = base64.urlsafe_b64encode(json.dumps({"name": "Forged"}).encode()).decode().rstrip("=")
    assert credentials.credential_verify(f"{head}.{other}.{signature}") is None
    assert credentials.credential_verify("not a token") is None
    ref = credentials.credential_ref(award)
    assert Client().get(f"/badges/credentials/{award.pk}-0000/").status_code == 404
    services.user_badge_revoke(award=award, reason="Cheated.")
    assert credentials.credential_verify(token) is None
    assert "Not valid." in Client().get(f"/badges/credentials/{ref}/").content.decode()


def test_the_verification_page_hides_the_earner_of_a_hidden_profile():
    award = _award()
    ref = credentials.credential_ref(award)
    page = Client().get(f"/badges/credentials/{ref}/").content.decode()
    assert "Valid." in page and "Web starter" in page and "Bea Badger" in page
    award.user.profile_public = False
    award.user.save(update_fields=["profile_public"])
    page = Client().get(f"/badges/credentials/{ref}/").content.decode()
    assert "Valid." in page and "Bea Badger" not in page and str(award.user.pk) not in page


def test_the_baked_image_carries_the_credential_and_the_verify_form_accepts_it():
    award = _award()
    ref = credentials.credential_ref(award)
    client = Client()
    png = client.get(f"/badges/credentials/{ref}/badge.png")
    assert png["Content-Type"] == "image/png"
    token = credentials.unbake_png(png.content)
    assert credentials.credential_verify(token)["name"] == "Web starter"
    jwt = client.get(f"/badges/credentials/{ref}/credential.jwt").content.decode()
    assert credentials.credential_verify(jwt) is not None

    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("badge.png", png.content, content_type="image/png")
    page = client.post("/badges/verify/", {"image": upload}).content.decode()
    assert "<strong>Valid.</strong> Web starter" in page
    page = client.post("/badges/verify/", {"credential": jwt[:-4] + "AAAA"}).content.decode()
    assert "Not valid." in page
