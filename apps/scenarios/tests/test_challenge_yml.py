"""Importing CTFd/ctfcli challenge.yml files."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from apps.scenarios.bundle_io import DEFAULT_LIMITS, read_folder
from apps.scenarios.challenge_yml import plan_challenge
from apps.scenarios.grading import grade, new_answer_state, validate_questions
from apps.scenarios.imports import bundle_import, bundle_import_all
from apps.scenarios.models import Scenario, ScenarioAsset
from rangex.core.errors import ValidationFailed
from rangex.core.models import AuditLog

DATA = Path(__file__).parent / "data" / "ctfd"


def plan(name: str):
    files = read_folder(DATA / name)
    return plan_challenge("challenge.yml", files, limits=DEFAULT_LIMITS)


def check(question, answer):
    return grade(
        question=question,
        state=new_answer_state(question),
        answer=answer,
        scoring_mode="allOrNothing",
        hint_mode="free",
        hints=[],
    ).correct


def test_standard_challenge_with_image_hints_files_and_connection_info():
    p = plan("web-cookie")
    f = p.version_fields
    assert p.slug == "cookie-monster" and f["title"] == "Cookie Monster" and f["category"] == "web"
    assert f["short_description"] == "The admin panel trusts a cookie it should not."
    assert "http://cookie.ctf.example:8080" in f["mission_text"]
    assert f["metadata"]["ctfd"]["connection_info"] == "http://cookie.ctf.example:8080"
    assert f["metadata"]["ctfd"]["state"] == "visible"
    assert f["creator_name"] == "alice" and f["tags"] == ["web", "cookies"]
    [q] = f["questions"]
    assert q["points"] == 150
    assert q["flags"] == [{"type": "static", "content": "CTF{c00k13s_4r3_n0t_s1gn4tur3s}", "case_insensitive": False}]
    assert [(h["id"], h["text"], h["cost"]) for h in f["hints"]] == [
        ("h1", "Look at what the server sets after login.", 0),
        ("h2", "The role is stored in base64.", 25),
    ]
    assert f["hint_mode"] == "penalty"
    [machine] = p.machines
    assert machine.image_source_type == "custom" and machine.image_ref == "registry.example.com/ctf/cookie-monster:1.2"
    assert f["requires_machines"] is True
    [(asset, _, planned)] = p.assets
    assert asset.file_name == "app.py" and asset.asset_type == "download" and b"Flask" in planned.content
    assert validate_questions(f["questions"], f["hints"], scenario_type="challenge") == {}


def test_regex_and_case_insensitive_flags_stay_a_list():
    p = plan("regex-login")
    [q] = p.version_fields["questions"]
    assert len(q["flags"]) > 1 and q["max_attempts"] == 5
    assert check(q, "ctf{login-1234}")
    assert check(q, "ctf{master-key}")
    assert not check(q, "ctf{login-12345}")
    assert p.version_fields["hint_mode"] == "disabled"
    assert p.version_fields["metadata"]["ctfd"]["state"] == "hidden"


def test_dynamic_value_becomes_the_questions_scoring():
    p = plan("dynamic-rsa")
    f = p.version_fields
    assert f["questions"][0]["scoring"] == {"function": "logarithmic", "initial": 500, "decay": 15, "minimum": 100}
    assert f["questions"][0]["points"] == 500
    assert f["questions"][0]["flags"][0]["case_insensitive"] is True
    assert p.requirement_names == ["Warmup"]
    assert sorted(a.file_name for a, _, _ in p.assets) == ["chall.sage", "output.txt"]
    assert p.machines == [] and f["requires_machines"] is False


def test_several_static_flags_accept_each():
    [q] = plan("forensics-pcap").version_fields["questions"]
    assert check(q, "FLAG{dns_tunnel_found}") and check(q, "FLAG{dns-tunnel-found}")
    assert not check(q, "FLAG{dns.tunnel.found}")


def test_case_insensitive_regex_flag():
    p = plan("pwn-echo")
    [q] = p.version_fields["questions"]
    assert check(q, "flag{FMT_deadbeef}")
    assert p.machines[0].image_ref == "rangex/busybox:latest"
    assert p.version_fields["hint_mode"] == "free"


@pytest.mark.parametrize(
    ("name", "fragments"),
    [
        ("broken/malformed", ["challenge.yml, line 5", "not valid YAML"]),
        ("broken/missing-name", ["challenge.yml, line 1, name:", "Give the challenge's name"]),
        ("broken/bad-flag-type", ["challenge.yml, line 6, flags[1].type:", "Unknown flag type 'glob'"]),
        ("broken/traversal", ["challenge.yml, line 7, files[0]:", "without '..'"]),
    ],
)
def test_broken_challenges_name_file_line_and_field(name, fragments):
    with pytest.raises(ValidationFailed) as exc:
        plan(name)
    for fragment in fragments:
        assert fragment in exc.value.message, exc.value.message


def test_missing_file_and_bad_regex_are_reported_together():
    text = b"name: X\ncategory: c\nflags:\n  - type: regex\n    content: '(a+)+'\nfiles:\n  - nothere.txt\n"
    with pytest.raises(ValidationFailed) as exc:
        plan_challenge("challenge.yml", {"challenge.yml": text}, limits=DEFAULT_LIMITS)
    assert "line 5, flags[0].content" in exc.value.message and "1 more problem" in exc.value.message
    assert exc.value.fields["challenge.yml:files[0]"] == [
        "line 7: The file 'nothere.txt' is not next to challenge.yml."
    ]


def test_aliases_are_refused():
    text = b"name: &n X\ncategory: *n\nflags: [a]\n"
    with pytest.raises(ValidationFailed, match="line 2: YAML anchors and aliases"):
        plan_challenge("challenge.yml", {"challenge.yml": text}, limits=DEFAULT_LIMITS)


def test_import_single_challenge_yml_creates_a_draft(creator):
    data = (DATA / "regex-login" / "challenge.yml").read_bytes()
    version = bundle_import(actor=creator, data=data, filename="challenge.yml")
    assert version.status == "DRAFT" and version.version_number == 1
    assert version.scenario.slug == "regex-login" and version.scenario.created_by_user == creator
    assert AuditLog.objects.filter(action_type="scenario_version.import", target_id=str(version.pk)).exists()


def test_import_zip_of_several_challenges_with_files(creator):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for folder in ("web-cookie", "dynamic-rsa", "forensics-pcap"):
            for path in sorted((DATA / folder).rglob("*")):
                if path.is_file():
                    archive.write(path, f"ctf/{folder}/{path.relative_to(DATA / folder).as_posix()}")
    versions = bundle_import_all(actor=creator, data=out.getvalue(), filename="ctf.zip")
    assert sorted(v.scenario.slug for v in versions) == ["cookie-monster", "lost-in-transit", "tiny-rsa"]
    cookie = next(v for v in versions if v.scenario.slug == "cookie-monster")
    asset = cookie.assets.get()
    assert asset.file.read().startswith(b"from flask") and asset.file_size == asset.file.size
    assert cookie.machines.get().image_ref == "registry.example.com/ctf/cookie-monster:1.2"
    assert ScenarioAsset.objects.filter(scenario_version__in=versions).count() == 5


def test_import_folder_path(creator):
    version = bundle_import(actor=creator, data=DATA / "pwn-echo", filename="pwn-echo")
    assert version.title == "Echo Chamber"


def test_broken_challenge_in_a_zip_imports_nothing(creator):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.write(DATA / "regex-login" / "challenge.yml", "a/challenge.yml")
        archive.write(DATA / "broken" / "missing-name" / "challenge.yml", "b/challenge.yml")
    with pytest.raises(ValidationFailed, match=r"b/challenge\.yml, line 1, name"):
        bundle_import_all(actor=creator, data=out.getvalue(), filename="two.zip")
    assert not Scenario.objects.exists()


def test_local_build_context_image_becomes_a_machine_to_build_with_a_warning():
    text = b"name: Local\ncategory: c\nflags: [x]\nimage: .\n"
    p = plan_challenge("challenge.yml", {"challenge.yml": text}, limits=DEFAULT_LIMITS)
    [machine] = p.machines
    assert machine.image_ref == "rangex-import/local:latest"
    assert any("line 4, image: RangeX does not build images from uploads" in w for w in p.warnings)


def test_challenge_without_flags_is_refused():
    with pytest.raises(ValidationFailed, match=r"line 1, flags: Give at least one flag"):
        plan_challenge("challenge.yml", {"challenge.yml": b"name: X\ncategory: c\n"}, limits=DEFAULT_LIMITS)


def test_a_challenge_named_after_a_catalog_page_is_refused(creator):
    data = (DATA / "regex-login" / "challenge.yml").read_bytes().replace(b"name: Regex Login", b"name: Favorites")
    with pytest.raises(ValidationFailed, match="names a catalog page") as exc:
        bundle_import(actor=creator, data=data, filename="challenge.yml")
    assert "challenge.yml:scenario.slug" in exc.value.fields
    assert not Scenario.objects.exists()
