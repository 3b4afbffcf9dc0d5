"""Hostile YAML is refused before any real work: depth, node count, CPU time and odd values.

A CTFd ``challenge.yml`` and a RangeX bundle's ``scenario.yaml`` go through the same reader, so each
bound is checked for both, through the importer a creator uses.
"""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.scenarios.bundle_io import DEFAULT_LIMITS, BundleLimits, YamlDoc
from apps.scenarios.imports import bundle_import
from apps.scenarios.models import ScenarioVersion
from rangex.core.errors import ValidationFailed

CHALLENGE = """\
name: Dated
category: misc
value: 10
flags:
  - CTF{dated}
topics:
  - 2024-01-31
"""


def as_bundle(manifest: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("scenario.yaml", manifest)
    return out.getvalue()


def import_challenge(creator, text: str, **kwargs):
    return bundle_import(actor=creator, data=text.encode(), filename="challenge.yml", **kwargs)


def import_bundle(creator, manifest: str, **kwargs):
    return bundle_import(actor=creator, data=as_bundle(manifest), filename="lab.zip", **kwargs)


HOSTILE = {
    # The probe's files: 200 KB of balanced brackets kept daphne busy for 100 s, then crashed the composer.
    "flow sequences": "[" * 100_000 + "]" * 100_000,
    "flow mappings": "{a: " * 50_000 + "1" + "}" * 50_000,
    "block mappings": "".join(f"{'  ' * i}a:\n" for i in range(200)),
    "block sequences": "".join(f"{'  ' * i}-\n" for i in range(200)),
}


@pytest.mark.parametrize("shape", HOSTILE)
def test_deep_nesting_in_a_challenge_yml_is_refused_naming_file_and_limit(creator, shape):
    with pytest.raises(ValidationFailed) as exc:
        import_challenge(creator, HOSTILE[shape])
    assert exc.value.message.startswith("challenge.yml, line ")
    assert "nested more than 32 levels deep" in exc.value.message
    assert not ScenarioVersion.objects.exists()


@pytest.mark.parametrize("shape", HOSTILE)
def test_deep_nesting_in_a_bundle_manifest_is_refused_naming_file_and_limit(creator, shape):
    with pytest.raises(ValidationFailed) as exc:
        import_bundle(creator, HOSTILE[shape])
    assert exc.value.message.startswith("scenario.yaml, line ")
    assert "nested more than 32 levels deep" in exc.value.message


def test_nesting_up_to_the_limit_is_read():
    text = "[" * DEFAULT_LIMITS.max_yaml_depth + "1" + "]" * DEFAULT_LIMITS.max_yaml_depth
    value = YamlDoc(text, filename="challenge.yml").data
    for _ in range(DEFAULT_LIMITS.max_yaml_depth - 1):
        value = value[0]
    assert value == [1]


def test_too_many_values_are_refused(creator):
    many = "tags:\n" + "".join(f"  - t{i}\n" for i in range(DEFAULT_LIMITS.max_yaml_nodes + 1))
    with pytest.raises(ValidationFailed, match=r"challenge\.yml, line \d+: the YAML has more than 50000 values"):
        import_challenge(creator, many)
    with pytest.raises(ValidationFailed, match=r"scenario\.yaml, line \d+: the YAML has more than 50000 values"):
        import_bundle(creator, many)


def test_reading_over_the_cpu_budget_is_refused(creator):
    # A zero budget refuses any file once a few hundred values have been read; the real budget is
    # two seconds of CPU, which no file under the size and node caps comes near.
    limits = BundleLimits(max_yaml_cpu_seconds=0.0)
    text = CHALLENGE + "tags:\n" + "".join(f"  - t{i}\n" for i in range(300))
    with pytest.raises(ValidationFailed, match=r"challenge\.yml: reading the YAML took more than 0 seconds"):
        import_challenge(creator, text, limits=limits)
    with pytest.raises(ValidationFailed, match=r"scenario\.yaml: reading the YAML took more than 0 seconds"):
        import_bundle(creator, text, limits=limits)


def test_dates_stay_text_and_import(creator):
    version = import_challenge(creator, CHALLENGE)
    # A date would be refused as a topic ("Give text") if YAML built a date object from it.
    assert version.metadata["topics"] == ["2024-01-31"]


@pytest.mark.parametrize(
    "value,line",
    [("!!int x", 2), ("!!float abc", 2)],
)
def test_values_yaml_cannot_build_name_their_line(value, line):
    with pytest.raises(ValidationFailed, match=rf"challenge\.yml, line {line}: this is not valid YAML \(cannot read"):
        YamlDoc(f"name: x\nvalue: {value}\n", filename="challenge.yml")


@pytest.mark.parametrize("value", ["!!binary aGVsbG8=", "!!set {a, b}"])
def test_values_json_cannot_hold_are_refused(value):
    with pytest.raises(ValidationFailed, match=r"challenge\.yml, line 2, requirements: Use text, a number"):
        YamlDoc(f"name: x\nrequirements: {value}\n", filename="challenge.yml")


def test_import_page_refuses_a_deep_challenge_yml_with_a_clear_400(creator_client):
    upload = SimpleUploadedFile("challenge.yml", HOSTILE["flow sequences"].encode())
    response = creator_client.post("/studio/import/", {"bundle": upload})
    assert response.status_code == 400
    assert b"challenge.yml, line 1: the YAML is nested more than 32 levels deep; refused." in response.content
