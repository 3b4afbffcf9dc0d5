"""Exporting to ctfcli: a challenge.yml ctfcli itself loads and lints, that imports back identically."""

from __future__ import annotations

import io
import posixpath
import zipfile
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.images.models import ImageVariant
from apps.scenarios import services
from apps.scenarios.challenge_yml import EXTRA_VERSION_FIELDS
from apps.scenarios.ctfcli_export import ctfcli_export, ctfcli_export_zip
from apps.scenarios.factories import draft_version, published_version
from apps.scenarios.imports import scenario_import
from apps.scenarios.models import Machine, NetworkPivotPoint, ScenarioAsset, ScenarioVersion
from rangex.core.errors import ValidationFailed

CORPUS = Path(__file__).parent / "data" / "corpus"

QUESTION = {
    "id": "root",
    "type": "flag",
    "prompt": "Submit the root flag.",
    "points": 500,
    "max_attempts": 4,
    "flags": [
        {"type": "static", "content": "RX{root}", "case_insensitive": False},
        {"type": "static", "content": "RX{Alt}", "case_insensitive": True},
        {"type": "regex", "content": r"RX\{r[0-9]+\}", "case_insensitive": False},
        {"type": "regex", "content": r"RX\{CI\}", "case_insensitive": True},
    ],
    "scoring": {"function": "linear", "initial": 500, "decay": 25, "minimum": 100},
}
HINTS = [
    {"id": "h1", "question_id": "root", "text": "A free hint.", "cost": 0},
    {"id": "base", "question_id": "root", "title": "Base", "text": "Look at the base.", "cost": 5},
    {"id": "deep", "question_id": "root", "text": "Go deeper.", "cost": 20, "requires": ["base"]},
]


def content(version: ScenarioVersion) -> dict:
    """Everything an import writes for a version, comparable between two versions."""
    fields = {name: getattr(version, name) for name in ScenarioVersion.CONTENT_FIELDS if name != "cover_image"}
    fields["cover"] = version.cover_image.read() if version.cover_image else None
    machine_fields = [
        f.name
        for f in Machine._meta.concrete_fields
        if f.name not in ("id", "scenario_version", "created_at", "updated_at")
    ]
    fields["machines"] = sorted(
        ({name: getattr(m, name) for name in machine_fields} for m in version.machines.all()), key=lambda r: r["name"]
    )
    fields["pivots"] = sorted(
        (p.source_network_group, p.target_network_group, p.description) for p in version.pivot_points.all()
    )
    fields["assets"] = sorted(
        (
            a.asset_type,
            a.file_name,
            a.target_path,
            a.permissions,
            a.description,
            a.machine.name if a.machine_id else None,
            a.file.read(),
        )
        for a in version.assets.select_related("machine")
    )
    return fields


@pytest.fixture
def rich_version(creator):
    """A hand-made version using everything ctfcli can express, plus RangeX-only fields and a topology."""
    required = published_version(creator=creator, title="Warm Up", slug="warm-up")
    variant = ImageVariant.objects.create(
        base_os="debian", variant_type="lite", image_ref="rangex/debian:bookworm", display_name="Debian Lite"
    )
    version = draft_version(
        creator=creator,
        slug="the-box",
        title="The Box",
        short_description="Root the box.",
        difficulty="advanced",
        category="pwn",
        tags=["linux", "privesc"],
        estimated_minutes=45,
        creator_name="Alice",
        learning_outcomes="Escalation.",
        hint_mode="penalty",
        mission_text="# Mission\n\nGet root.\n\n**Connection:** `nc box 31337`",
        metadata={
            "topics": ["privilege escalation"],
            "requirements": {"prerequisites": [required.scenario.slug], "anonymize": False},
            "ctfd": {"state": "hidden", "connection_info": "nc box 31337", "attribution": "By Alice"},
            "healthcheck": {"script": "writeup/exploit.sh"},
            "course": {"week": 3},
        },
        solution_writeup="# Writeup\n\nsudo -l\n",
        network_topology={"networks": {"front": {"internal": False}, "back": {"internal": True}}},
        questions=[QUESTION],
        hints=HINTS,
        machines=[],
    )
    actor = creator
    services.machine_add(
        version=version, actor=actor, name="attacker", role="attacker", image_source_type="variant",
        image_variant=variant, network_group="front", allow_solver_entry=True, sort_order=0,
    )  # fmt: skip
    web = services.machine_add(
        version=version, actor=actor, name="web", image_source_type="custom", image_ref="ghcr.io/example/web:1",
        network_group="front", is_pivot_host=True, exposed_ports=[{"port": 8080, "protocol": "tcp"}],
        web_enabled=True, run_as_user="1000:1000", capabilities=["NET_BIND_SERVICE"], entrypoints=["httpd", "-f"],
        environment_vars={"MODE": "ctf"}, resource_profile="medium", sort_order=1,
    )  # fmt: skip
    services.machine_add(
        version=version, actor=actor, name="db", image_source_type="custom", image_ref="ghcr.io/example/db:1",
        network_group="back", exposed_ports=[{"port": 5432, "protocol": "tcp"}], sort_order=2, read_only_root=True,
    )  # fmt: skip
    services.pivot_point_add(version=version, actor=actor, source="front", target="back", description="web bridges")
    for asset in (
        ScenarioAsset(asset_type="download", file_name="handout.txt", file=ContentFile(b"read me", name="h.txt")),
        ScenarioAsset(
            asset_type="machine_file",
            machine=web,
            file_name="secret.txt",
            target_path="/srv/secret.txt",
            permissions="0600",
            description="on the box",
            file=ContentFile(b"s3cret", name="s.txt"),
        ),
    ):
        services.scenario_version_component_save(version=version, actor=actor, obj=asset)
    version.refresh_from_db()
    return version


def test_round_trip_rangex_to_ctfcli_to_rangex_is_identical(rich_version, admin_user):
    data = ctfcli_export_zip(version=rich_version)
    report = scenario_import(actor=rich_version.scenario.created_by_user, data=data, filename="the-box.zip")
    [entry] = report.entries
    assert entry.status == "imported", entry.errors
    copy = entry.version
    assert copy.pk != rich_version.pk and copy.scenario.slug == "the-box-2"
    assert content(copy) == content(rich_version)


def test_export_of_an_imported_challenge_imports_back_identically(creator):
    first = scenario_import(actor=creator, data=CORPUS / "hints-chain", filename="hints-chain").versions[0]
    again = scenario_import(actor=creator, data=ctfcli_export_zip(version=first), filename="again.zip")
    assert content(again.versions[0]) == content(first)


def test_ctfcli_loads_and_lints_the_export(rich_version, tmp_path, monkeypatch):
    from ctfcli.core.challenge import Challenge

    for path, blob in ctfcli_export(version=rich_version).items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_bytes(blob)
    challenge = Challenge(tmp_path / "challenge.yml")
    assert challenge["name"] == "The Box" and challenge["type"] == "dynamic"
    assert challenge["extra"] == {"initial": 500, "decay": 25, "minimum": 100, "function": "linear"}
    assert challenge["requirements"] == ["Warm Up"] and challenge["state"] == "hidden"
    assert challenge["flags"][0] == "RX{root}" and challenge["flags"][1]["data"] == "case_insensitive"
    assert challenge["hints"][2] == {"key": "deep", "content": "Go deeper.", "cost": 20, "requirements": ["base"]}
    assert challenge.lint(skip_hadolint=True, flag_format="RX{") is True
    # ctfcli lists "files" twice in its key order; the export uses the later place, after tags.
    position = {key: i for i, key in enumerate(Challenge.key_order)}
    places = [position[k] for k in challenge if k in position]
    assert places == sorted(places)
    assert set(EXTRA_VERSION_FIELDS) <= set(challenge["x-rangex"])


def test_versions_ctfcli_cannot_express_are_refused_with_the_reason(creator):
    several = draft_version(creator=creator, questions=[dict(QUESTION), dict(QUESTION, id="two")])
    with pytest.raises(ValidationFailed, match="has 2 questions"):
        ctfcli_export(version=several)
    per_session = draft_version(
        creator=creator,
        questions=[
            {
                "id": "q",
                "type": "flag",
                "prompt": "?",
                "points": 1,
                "dynamic": True,
                "match": "exact",
                "flag_machine": "attacker",
                "flag_path": "/flag",
            }
        ],
        hints=[],
    )
    with pytest.raises(ValidationFailed, match="per-session flag"):
        ctfcli_export(version=per_session)


def test_export_command_writes_a_folder_or_a_zip(rich_version, tmp_path):
    out = io.StringIO()
    call_command("export_scenario", "the-box", "--format", "ctfcli", "-o", str(tmp_path / "box"), stdout=out)
    assert (tmp_path / "box" / "challenge.yml").is_file() and (tmp_path / "box" / "docker-compose.yml").is_file()
    assert (tmp_path / "box" / "dist" / "handout.txt").read_bytes() == b"read me"
    call_command("export_scenario", "the-box", "--format", "ctfcli", "-o", str(tmp_path / "box.zip"), stdout=out)
    names = zipfile.ZipFile(tmp_path / "box.zip").namelist()
    assert "challenge.yml" in names and any(posixpath.dirname(n) == "writeup" for n in names)
    with pytest.raises(CommandError, match="not an empty folder"):
        call_command("export_scenario", "the-box", "--format", "ctfcli", "-o", str(tmp_path / "box"))
    call_command(
        "import_scenario", str(tmp_path / "box" / "challenge.yml"), "--as", rich_version.scenario.created_by_user.email,
        stdout=out,
    )  # fmt: skip
    assert "the-box-2, new scenario" in out.getvalue()
    assert NetworkPivotPoint.objects.filter(scenario_version__scenario__slug="the-box-2").count() == 1
