"""Importing ctfcli challenge.yml files faithfully: every key kept or reported, folders of many challenges."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.scenarios.bundle_io import DEFAULT_LIMITS, read_folder
from apps.scenarios.challenge_yml import plan_challenge
from apps.scenarios.grading import grade, new_answer_state, validate_questions
from apps.scenarios.imports import scenario_import
from apps.scenarios.models import Scenario, ScenarioAsset, ScenarioVersion
from rangex.core.errors import ValidationFailed

CORPUS = Path(__file__).parent / "data" / "corpus"
VALID = sorted(p.name for p in CORPUS.iterdir() if p.is_dir() and p.name != "refused")
REFUSED = sorted(p.name for p in (CORPUS / "refused").iterdir())


def plan(name: str):
    return plan_challenge("challenge.yml", read_folder(CORPUS / name), limits=DEFAULT_LIMITS)


def correct(question, answer) -> bool:
    state = new_answer_state(question)
    return grade(
        question=question, state=state, answer=answer, scoring_mode="allOrNothing", hint_mode="free", hints=[]
    ).correct


def zip_of(folder: Path, prefix: str = "") -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, f"{prefix}{path.relative_to(folder).as_posix()}")
    return out.getvalue()


def test_dynamic_challenge_takes_extra_initial_and_the_decay_function():
    p = plan("dynamic-linear")
    [q] = p.version_fields["questions"]
    assert q["points"] == 500
    assert q["scoring"] == {"function": "linear", "initial": 500, "decay": 20, "minimum": 100}
    assert any("value ignored" in w and "line 8" in w for w in p.warnings)
    assert validate_questions([q], [], scenario_type="challenge") == {}


def test_plugin_type_with_dynamic_extra_becomes_dynamic_and_warns_naming_what_is_dropped():
    p = plan("plugin-container")
    [q] = p.version_fields["questions"]
    assert q["scoring"]["initial"] == 300 and q["points"] == 300
    assert p.version_fields["metadata"]["ctfd"]["type"] == "container"
    warnings = "\n".join(p.warnings)
    assert "plugin type 'container' is not understood: imported as dynamic" in warnings
    assert "extra.image: not understood; dropped" in warnings and "extra.port" in warnings


def test_topics_tags_and_requirements_are_kept():
    p = plan("topics-tags")
    f = p.version_fields
    assert f["metadata"]["topics"] == ["information disclosure", "buffer overflow"]
    assert f["tags"] == ["web", "beginner"]
    assert p.requirement_names == ["Warmup", "Not On This Platform"]


def test_omitted_state_is_ctfclis_default_visible():
    assert plan("warmup").version_fields["metadata"]["ctfd"]["state"] == "visible"
    assert plan("dynamic-linear").version_fields["metadata"]["ctfd"]["state"] == "hidden"


def test_flags_are_a_list_graded_as_ctfd_grades_them():
    p = plan("hints-chain")
    [q] = p.version_fields["questions"]
    assert q["flags"] == [
        {"type": "static", "content": "flag{first}", "case_insensitive": False},
        {"type": "regex", "content": r"flag\{second-[0-9]+\}", "case_insensitive": False},
        {"type": "regex", "content": r"FLAG\{THIRD\}", "case_insensitive": True},
    ]
    assert correct(q, "flag{first}") and not correct(q, "FLAG{FIRST}")
    assert correct(q, "flag{second-42}") and not correct(q, "flag{second-42}x")
    assert correct(q, "flag{third}") and correct(q, "  FLAG{Third}  ")
    assert q["max_attempts"] == 3


def test_hints_keep_cost_title_and_requirements():
    p = plan("hints-chain")
    hints = p.version_fields["hints"]
    assert [h["id"] for h in hints] == ["h1", "h2", "base", "h4"]
    assert hints[1]["cost"] == 10 and hints[2]["title"] == "The base" and hints[3]["requires"] == ["base"]
    assert p.version_fields["hint_mode"] == "penalty"
    assert p.version_fields["solution_writeup"].startswith("# Writeup")
    assert p.version_fields["metadata"]["ctfd"]["solution_state"] == "visible"
    assert p.version_fields["metadata"]["ctfd"]["attribution"].startswith("Written by")
    assert validate_questions(p.version_fields["questions"], hints, scenario_type="challenge") == {}


def test_unknown_and_misspelt_keys_are_warned_with_their_line():
    warnings = plan("unknown-keys").warnings
    assert (
        "challenge.yml, line 4, decription: unknown key, not in the ctfcli spec; dropped. Did you mean 'description'?"
        in warnings
    )
    assert (
        "challenge.yml, line 5, points: unknown key, not in the ctfcli spec; dropped. Did you mean 'value'?" in warnings
    )


def test_connection_info_and_protocol_become_the_exposed_port_and_access_method():
    p = plan("web-connection")
    [machine] = p.machines
    assert machine.image_ref == "ghcr.io/example/web-login:1.0"
    assert machine.exposed_ports == [{"port": 8080, "protocol": "tcp"}] and machine.web_enabled
    ctfd = p.version_fields["metadata"]["ctfd"]
    assert ctfd["host"] == "ssh://root@10.0.0.1" and ctfd["next"] == "Topical" and ctfd["protocol"] == "http"
    assert any("host: kept in metadata, not used" in w for w in p.warnings)
    healthy = plan("healthcheck")
    assert healthy.version_fields["metadata"]["healthcheck"] == {"script": "writeup/exploit.sh"}
    assert healthy.machines == [] and "nc healthy.example 4444" in healthy.version_fields["mission_text"]


def test_compose_beside_the_challenge_gives_machines_networks_and_a_pivot():
    p = plan("compose-pivot")
    machines = {m.name: m for m in p.machines}
    assert set(machines) == {"attacker", "web", "db"}
    web = machines["web"]
    assert web.is_pivot_host and web.run_as_user == "1000" and web.capabilities == ["NET_BIND_SERVICE"]
    assert web.exposed_ports == [{"port": 8080, "protocol": "tcp"}] and web.entrypoints[0] == "sh"
    assert {(pp.source_network_group, pp.target_network_group) for pp in p.pivot_points} == {("front", "back")}
    assert machines["attacker"].allow_solver_entry and machines["attacker"].role == "attacker"
    assert machines["db"].read_only_root and not web.read_only_root
    assert p.version_fields["network_topology"]["networks"]["back"] == {"internal": True}
    assert p.version_fields["docker_compose_path"] == "docker-compose.yml"


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("unrendered-invalid", "challenge.yml, line 1: this is not valid YAML and looks like an unrendered template"),
        ("unrendered-valid", "challenge.yml, line 1, name: '{{cookiecutter.name}}' looks like an unrendered template"),
        ("missing-file", "challenge.yml, line 7, files[0]: The file 'dist/not-shipped.zip' is not next to"),
        ("bad-regex", "challenge.yml, line 5, flags[0].content: Nested quantifiers"),
        ("no-flags", "challenge.yml, line 1, flags: Give at least one flag"),
        ("compose-privileged", "line 4: Refused: privileged containers"),
        ("compose-host-mount", "line 5: Host mounts are refused"),
        ("compose-host-network", "line 4: Refused: network_mode host"),
        ("compose-devices", "line 4: Refused: host devices"),
        ("compose-cap", "line 5: Refused: the capability SYS_ADMIN is not in the allowed list"),
        ("compose-read-only", "line 4, services.box.read_only: Give true or false."),
    ],
)
def test_refusals_name_the_file_the_line_and_the_field(name, fragment):
    with pytest.raises(ValidationFailed) as exc:
        plan(f"refused/{name}")
    text = exc.value.message + "\n" + "\n".join(f"{k} {m}" for k, ms in exc.value.fields.items() for m in ms)
    assert fragment in text, text


def test_a_folder_of_many_challenges_reports_every_problem_and_imports_nothing(creator):
    report = scenario_import(actor=creator, data=CORPUS, filename="corpus")
    assert len(report.refused) == len(REFUSED) and not report.imported
    assert {e.status for e in report.entries if not e.source_file.startswith("refused/")} == {"valid"}
    assert not Scenario.objects.exists() and not ScenarioAsset.objects.exists()
    refused = {e.source_file.split("/")[1]: e.errors for e in report.refused}
    assert set(refused) == set(REFUSED) and all(refused.values())


def test_partial_imports_the_valid_ones_and_resolves_requirements_within_the_upload(creator):
    report = scenario_import(actor=creator, data=zip_of(CORPUS), filename="corpus.zip", partial=True)
    assert len(report.imported) == len(VALID) and len(report.refused) == len(REFUSED)
    by_slug = {v.scenario.slug: v for v in report.versions}
    falling = by_slug["falling-value"]
    assert falling.metadata["requirements"] == {"prerequisites": ["warmup"], "anonymize": True}
    topical = by_slug["topical"]
    assert topical.metadata["requirements"]["prerequisites"] == ["warmup", "not-on-this-platform"]
    entry = next(e for e in report.entries if e.slug == "topical")
    assert any("'Not On This Platform' names no challenge" in w for w in entry.warnings)
    assert falling.assets.get().file_name == "cipher.txt"
    assert by_slug["pivot-through"].machines.count() == 3 and by_slug["pivot-through"].pivot_points.count() == 1


def test_same_name_makes_a_new_scenario_unless_told_which_to_update(creator):
    first = scenario_import(actor=creator, data=CORPUS / "warmup", filename="warmup")
    assert first.imported[0].outcome == "new scenario" and first.imported[0].slug == "warmup"
    second = scenario_import(actor=creator, data=CORPUS / "warmup", filename="warmup")
    assert second.imported[0].slug == "warmup-2" and second.imported[0].outcome == "new scenario"
    assert any("--new-version-of warmup" in w for w in second.imported[0].warnings)
    third = scenario_import(actor=creator, data=CORPUS / "warmup", filename="warmup", new_version_of="warmup")
    assert third.imported[0].outcome == "new version of warmup" and third.versions[0].version_number == 2
    assert ScenarioVersion.objects.filter(scenario__slug="warmup").count() == 2


def test_command_reads_a_lone_challenge_yml_with_the_files_beside_it(creator, capsys):
    call_command("import_scenario", str(CORPUS / "files-beside" / "challenge.yml"), "--as", creator.email)
    out = capsys.readouterr().out
    assert "Imported" in out and "1 imported, 0 refused" in out
    version = ScenarioVersion.objects.get(scenario__slug="files-beside")
    assert sorted(a.file_name for a in version.assets.all()) == ["crackme.bin", "notes.txt"]


def test_command_names_the_file_given_and_refuses_with_every_problem(creator, capsys):
    path = CORPUS / "refused" / "missing-file" / "challenge.yml"
    with pytest.raises(CommandError):
        call_command("import_scenario", str(path), "--as", creator.email)
    out = capsys.readouterr().out
    assert f"{path}, line 7, files[0]" in out and not Scenario.objects.exists()


def test_command_partial_prints_warnings_and_counts(creator, capsys):
    with pytest.raises(CommandError):
        call_command("import_scenario", str(CORPUS), "--as", creator.email, "--partial")
    out = capsys.readouterr().out
    assert f"{len(VALID)} imported, {len(REFUSED)} refused" in out and "warning: " in out
    assert Scenario.objects.count() == len(VALID)


def test_corpus_counts(creator):
    """The closing note's numbers: imported, refused with reason, warnings, over the fixture corpus."""
    report = scenario_import(actor=creator, data=CORPUS, filename="corpus", partial=True)
    compose = scenario_import(actor=creator, data=CORPUS.parent / "compose-lab", filename="compose-lab")
    counts = {
        "imported": len(report.imported) + len(compose.imported),
        "refused": len(report.refused) + len(compose.refused),
        "warnings": report.warning_count + compose.warning_count,
    }
    print("\ncorpus:", counts)
    for entry in report.refused:
        print("refused", entry.source_file, "->", entry.errors[0])
    assert counts["imported"] == len(VALID) + 1 and counts["refused"] == len(REFUSED)
