"""Scenario bundles: export, import, the round trip and the zip safety rules."""

from __future__ import annotations

import io
import stat
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command

from apps.accounts.factories import CreatorFactory
from apps.images.models import ImageVariant, PlatformImage
from apps.scenarios.bundle_io import BundleLimits, read_zip
from apps.scenarios.bundles import ASSET_FIELDS, MACHINE_FIELDS, VERSION_FIELDS, bundle_export
from apps.scenarios.imports import bundle_import
from apps.scenarios.models import Machine, NetworkPivotPoint, Scenario, ScenarioAsset, ScenarioVersion
from rangex.core.audit import AuditAction
from rangex.core.errors import PermissionDenied, ValidationFailed
from rangex.core.models import AuditLog

QUESTIONS = [
    {"id": "q1", "type": "flag", "prompt": "Root flag?", "points": 100, "max_attempts": 5, "answer": "RX{x}"},
    {"id": "q2", "type": "numeric", "prompt": "Open ports?", "points": 10, "answer": 3, "tolerance": 0},
]
HINTS = [{"id": "h1", "question_id": "q1", "text": "sudo -l", "cost": 20}]


def make_version(creator) -> ScenarioVersion:
    """A rich draft: every kind of image, a pivot, assets on a machine and for download, a cover."""
    variant = ImageVariant.objects.create(
        base_os="debian", variant_type="lite", image_ref="rangex/debian:bookworm", display_name="Debian Lite"
    )
    platform = PlatformImage.objects.create(label="Kali attacker", image_ref="rangex/attacker:latest")
    scenario = Scenario.objects.create(slug="pivot-lab", created_by_user=creator)
    version = ScenarioVersion.objects.create(
        scenario=scenario,
        version_number=1,
        title="Pivot lab",
        short_description="Hop through the DMZ.",
        difficulty="advanced",
        category="network",
        tags=["pivot", "ssh"],
        estimated_minutes=90,
        creator_name="Alice",
        code_of_ethics="Be nice.",
        learning_outcomes="Pivoting.",
        validation_mode="instant",
        scoring_mode="partial",
        hint_mode="penalty",
        mission_text="# Mission\nGet in.",
        metadata={"source": "test", "nested": {"a": [1, 2]}},
        solution_writeup="ssh -J ...",
        questions=QUESTIONS,
        hints=HINTS,
        network_topology={"groups": ["dmz", "internal"]},
    )
    version.cover_image.save("cover.png", ContentFile(b"\x89PNG fake"), save=True)
    attacker = Machine.objects.create(
        scenario_version=version,
        name="attacker",
        role="attacker",
        image_source_type="platform",
        platform_image=platform,
        network_group="dmz",
        allow_solver_entry=True,
        sort_order=0,
    )
    web = Machine.objects.create(
        scenario_version=version,
        name="web",
        role="victim",
        image_source_type="variant",
        image_variant=variant,
        network_group="dmz",
        is_pivot_host=True,
        cpu_cores=Decimal("0.75"),
        memory_mb=768,
        exposed_ports=[{"port": 80, "protocol": "tcp"}],
        environment_vars={"MODE": "prod"},
        entrypoints=["/start.sh"],
        ssh_enabled=True,
        ssh_username="www",
        ssh_password="hunter2",
        sort_order=1,
    )
    Machine.objects.create(
        scenario_version=version,
        name="db",
        role="service",
        image_source_type="custom",
        image_ref="registry.example.com/db:1",
        network_group="internal",
        network_egress_policy="none",
        sort_order=2,
    )
    NetworkPivotPoint.objects.create(
        scenario_version=version, source_network_group="dmz", target_network_group="internal", description="via web"
    )
    machine_file = ScenarioAsset(
        scenario_version=version,
        machine=web,
        asset_type="machine_file",
        file_name="flag.txt",
        target_path="/root/flag.txt",
        permissions="0600",
        description="root flag",
        file_size=6,
    )
    machine_file.file.save("flag.txt", ContentFile(b"RX{x}\n"), save=True)
    download = ScenarioAsset(scenario_version=version, asset_type="download", file_name="notes.md", file_size=7)
    download.file.save("notes.md", ContentFile(b"# notes"), save=True)
    assert attacker.pk
    return version


def stored_files() -> set[str]:
    root = settings.MEDIA_ROOT / "scenario-assets"
    return {str(p) for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def manifest_of(data: bytes) -> dict:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return yaml.safe_load(archive.read("scenario.yaml"))


def zip_with(entries: dict[str, bytes], manifest: dict | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        if manifest is not None:
            archive.writestr("scenario.yaml", yaml.safe_dump(manifest, sort_keys=False))
        for name, content in entries.items():
            archive.writestr(name, content)
    return out.getvalue()


def with_slug(data: bytes, slug: str) -> bytes:
    """Return the bundle with its manifest's scenario slug changed."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            content = source.read(info)
            if info.filename == "scenario.yaml":
                manifest = yaml.safe_load(content)
                manifest["scenario"]["slug"] = slug
                content = yaml.safe_dump(manifest, sort_keys=False).encode()
            target.writestr(info.filename, content)
    return out.getvalue()


# --- Export ---------------------------------------------------------------------------------------


def test_export_leaves_secrets_out_and_says_so(creator):
    data = bundle_export(version=make_version(creator))
    manifest = manifest_of(data)
    assert b"hunter2" not in data
    assert manifest["omitted_secrets"] == ["machines[1].ssh_password"]
    assert "never exported" in manifest["omitted_secrets_note"]
    assert manifest["scenario"] == {"slug": "pivot-lab"}
    assert [m["image"] for m in manifest["machines"]] == [
        {"platform": "Kali attacker", "image_ref": "rangex/attacker:latest"},
        {"variant": "Debian Lite", "image_ref": "rangex/debian:bookworm"},
        {"ref": "registry.example.com/db:1"},
    ]
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = set(archive.namelist())
    assert {"scenario.yaml", "cover/" + manifest["version"]["cover_image"].split("/")[-1]} <= names
    assert {a["file"] for a in manifest["assets"]} <= names


# --- Round trip -----------------------------------------------------------------------------------


def test_export_then_import_reproduces_the_version_field_for_field(creator):
    original = make_version(creator)
    other = CreatorFactory()
    data = bundle_export(version=original)
    # Import as another creator under a fresh slug, so a new scenario is made.
    copy = bundle_import(actor=other, data=with_slug(data, "pivot-lab-copy"), filename="pivot.zip")
    copy.refresh_from_db()
    original.refresh_from_db()
    assert copy.pk != original.pk and copy.status == "DRAFT" and copy.version_number == 1
    assert copy.scenario.slug == "pivot-lab-copy" and copy.scenario.created_by_user == other
    for name in (*VERSION_FIELDS, "questions", "hints"):
        assert getattr(copy, name) == getattr(original, name), name
    assert copy.cover_image.read() == b"\x89PNG fake"

    def machines(v):
        return [
            {name: getattr(m, name) for name in MACHINE_FIELDS}
            | {
                "source": m.image_source_type,
                "variant": m.image_variant_id,
                "platform": m.platform_image_id,
                "ref": m.image_ref,
            }
            for m in v.machines.order_by("sort_order")
        ]

    assert machines(copy) == machines(original)
    assert copy.machines.get(name="web").ssh_password is None

    def pivots(v):
        return list(v.pivot_points.values_list("source_network_group", "target_network_group", "description"))

    assert pivots(copy) == pivots(original)

    def assets(v):
        return sorted(
            (
                *(getattr(a, name) for name in ASSET_FIELDS),
                a.machine.name if a.machine else None,
                a.file.read(),
                a.file_size,
            )
            for a in v.assets.select_related("machine")
        )

    assert assets(copy) == assets(original)
    assert all(len(a.sha256) == 64 for a in copy.assets.all())


def test_import_same_slug_by_owner_makes_a_new_draft_version(creator):
    original = make_version(creator)
    copy = bundle_import(actor=creator, data=bundle_export(version=original), filename="b.zip")
    assert copy.scenario_id == original.scenario_id and copy.version_number == 2 and copy.status == "DRAFT"


def test_import_slug_of_another_creator_is_refused_and_leaves_nothing(creator):
    data = bundle_export(version=make_version(creator))
    before = stored_files()
    with pytest.raises(ValidationFailed, match="belongs to another creator"):
        bundle_import(actor=CreatorFactory(), data=data, filename="b.zip")
    assert ScenarioVersion.objects.count() == 1
    assert stored_files() == before


def test_solver_may_not_import(solver):
    with pytest.raises(PermissionDenied):
        bundle_import(actor=solver, data=b"x", filename="b.zip")


# --- Manifest errors ------------------------------------------------------------------------------


def base_manifest(**overrides) -> dict:
    return {
        "format": "rangex-scenario-bundle",
        "format_version": 1,
        "scenario": {"slug": "tiny"},
        "version": {"title": "Tiny", "short_description": "A tiny lab.", "category": "web"},
        "questions": QUESTIONS,
        "hints": HINTS,
    } | overrides


def test_minimal_manifest_imports(creator):
    version = bundle_import(actor=creator, data=zip_with({}, base_manifest()), filename="tiny.zip")
    assert version.title == "Tiny" and version.questions == QUESTIONS and version.machines.count() == 0


def test_unknown_image_variant_names_file_line_and_field(creator):
    manifest = base_manifest(machines=[{"name": "web", "image": {"variant": "Nope OS"}}])
    with pytest.raises(ValidationFailed) as exc:
        bundle_import(actor=creator, data=zip_with({}, manifest), filename="t.zip")
    text = yaml.safe_dump(manifest, sort_keys=False).splitlines()
    line = next(i for i, row in enumerate(text, 1) if "variant: Nope OS" in row)
    assert exc.value.message.startswith(f"scenario.yaml, line {line}, machines[0].image.variant:")
    assert "No image variant named 'Nope OS'" in exc.value.message


def test_unknown_platform_image_is_an_error(creator):
    manifest = base_manifest(machines=[{"name": "web", "image": {"platform": "Ghost"}}])
    with pytest.raises(ValidationFailed, match="No platform image labelled 'Ghost'"):
        bundle_import(actor=creator, data=zip_with({}, manifest), filename="t.zip")


def test_model_validation_errors_point_at_the_field(creator):
    raw = (
        b"format: rangex-scenario-bundle\nformat_version: 1\nscenario:\n  slug: tiny\nversion:\n"
        b"  title: Tiny\n  short_description: s\n  category: web\n  difficulty: godlike\n"
        b"machines:\n  - name: Bad_Name\n    image: {ref: x/y:1}\n"
        b"assets:\n  - file: assets/missing.txt\n"
    )
    with pytest.raises(ValidationFailed) as exc:
        bundle_import(actor=creator, data=zip_with({"scenario.yaml": raw}), filename="t.zip")
    assert exc.value.message.startswith("scenario.yaml, line 9, version.difficulty:")
    assert exc.value.fields["scenario.yaml:machines[0].name"][0].startswith("line 11: Use 1 to 32 lowercase")
    assert exc.value.fields["scenario.yaml:assets[0].file"] == [
        "line 14: The file 'assets/missing.txt' is not in the bundle."
    ]
    assert not Scenario.objects.exists()


def test_secrets_in_a_manifest_are_refused(creator):
    manifest = base_manifest(machines=[{"name": "web", "image": {"ref": "a/b:1"}, "ssh_password": "x"}])
    with pytest.raises(ValidationFailed, match=r"machines\[0\].ssh_password: This field is not known"):
        bundle_import(actor=creator, data=zip_with({}, manifest), filename="t.zip")


def test_asset_target_path_must_be_absolute(creator):
    manifest = base_manifest(
        machines=[{"name": "web", "image": {"ref": "a/b:1"}}],
        assets=[{"file": "assets/a.txt", "machine": "web", "target_path": "../etc/x", "asset_type": "machine_file"}],
    )
    with pytest.raises(ValidationFailed, match=r"assets\[0\].target_path: Give an absolute path"):
        bundle_import(actor=creator, data=zip_with({"assets/a.txt": b"a"}, manifest), filename="t.zip")


def test_odd_yaml_types_are_errors_not_crashes(creator):
    manifest = base_manifest(
        version={"title": "Tiny", "short_description": "s", "category": "web", 1: "x", "extra": "y"},
        machines=[{"name": "web", "image": {"ref": "a/b:1"}, 2: "x", "other": "y"}],
        assets=[{"file": "assets/a.txt", "machine": ["web"]}],
    )
    with pytest.raises(ValidationFailed) as exc:
        bundle_import(actor=creator, data=zip_with({"assets/a.txt": b"a"}, manifest), filename="t.zip")
    assert "scenario.yaml:version.extra" in exc.value.fields
    assert "scenario.yaml:machines[0].other" in exc.value.fields
    assert "scenario.yaml:assets[0].machine" in exc.value.fields
    assert not Scenario.objects.exists()


def test_an_import_over_the_creators_storage_quota_is_refused_and_leaves_nothing(creator):
    from rangex.core.system import system_settings_update

    system_settings_update(actor=None, max_storage_per_user_bytes=8)
    manifest = base_manifest(assets=[{"file": "assets/big.txt", "asset_type": "download"}])
    with pytest.raises(ValidationFailed, match=r"assets/big.txt: .*quota"):
        bundle_import(actor=creator, data=zip_with({"assets/big.txt": b"x" * 64}, manifest), filename="t.zip")
    assert not Scenario.objects.exists() and not ScenarioAsset.objects.exists()


def test_an_import_over_the_platform_storage_limit_is_refused_naming_it(creator):
    from rangex.core.system import system_settings_update

    system_settings_update(actor=None, max_storage_per_user_bytes=0, max_total_storage_bytes=8)
    manifest = base_manifest(assets=[{"file": "assets/big.txt", "asset_type": "download"}])
    with pytest.raises(ValidationFailed, match=r"assets/big.txt: .*max total storage"):
        bundle_import(actor=creator, data=zip_with({"assets/big.txt": b"x" * 64}, manifest), filename="t.zip")
    assert not Scenario.objects.exists() and not ScenarioAsset.objects.exists()


def test_malformed_yaml_names_the_line(creator):
    bad = b"format_version: 1\nscenario:\n  slug: [unclosed\n"
    with pytest.raises(ValidationFailed, match=r"scenario.yaml, line \d+: this is not valid YAML"):
        bundle_import(actor=creator, data=zip_with({"scenario.yaml": bad}), filename="t.zip")


def test_upload_of_wrong_type_is_refused(creator):
    with pytest.raises(ValidationFailed, match=r"upload a \.zip bundle"):
        bundle_import(actor=creator, data=b"hello", filename="notes.txt")
    with pytest.raises(ValidationFailed, match="not a valid zip"):
        bundle_import(actor=creator, data=b"PK\x03\x04garbage", filename="x.zip")
    with pytest.raises(ValidationFailed, match=r"holds no scenario\.yaml"):
        bundle_import(actor=creator, data=zip_with({"readme.txt": b"hi"}), filename="x.zip")


def test_failure_after_files_were_stored_removes_them(creator):
    # The first challenge stores its file; the second's file takes the creator over the storage quota,
    # which is only found while writing. The whole import rolls back and the stored file is deleted.
    from rangex.core.system import system_settings_update

    system_settings_update(actor=None, max_storage_per_user_bytes=8)
    files = {
        "a/challenge.yml": b"name: Fine\ncategory: c\nflags: [x]\nfiles: [f.txt]\n",
        "a/f.txt": b"hello",
        "b/challenge.yml": b"name: Big\ncategory: c\nflags: [y]\nfiles: [g.txt]\n",
        "b/g.txt": b"x" * 64,
    }
    before = stored_files()
    with pytest.raises(ValidationFailed, match="quota"):
        bundle_import(actor=creator, data=zip_with(files), filename="two.zip")
    assert stored_files() == before
    assert not Scenario.objects.filter(slug="fine").exists() and not ScenarioAsset.objects.exists()


def test_non_finite_numbers_are_refused(creator):
    manifest = base_manifest(machines=[{"name": "web", "image": {"ref": "a/b:1"}, "environment_vars": {"X": 1}}])
    raw = yaml.safe_dump(manifest, sort_keys=False).replace("X: 1", "X: .nan").encode()
    with pytest.raises(ValidationFailed, match=r"machines\[0\].environment_vars.X: Use a finite number"):
        bundle_import(actor=creator, data=zip_with({"scenario.yaml": raw}), filename="t.zip")


# --- Zip safety -----------------------------------------------------------------------------------


def raw_zip(name: str, content: bytes = b"x", *, symlink: bool = False) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        info = zipfile.ZipInfo(name)
        if symlink:
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(info, content)
    return out.getvalue()


@pytest.mark.parametrize("name", ["/etc/passwd", "../evil.txt", "assets/../../evil", "C:/win.ini", "a\\..\\b"])
def test_unsafe_entry_paths_are_refused(name):
    with pytest.raises(ValidationFailed, match=r"absolute path or '\.\.'"):
        read_zip(raw_zip(name), filename="evil.zip")


def test_symlinks_are_refused():
    with pytest.raises(ValidationFailed, match="symbolic link"):
        read_zip(raw_zip("assets/link", b"/etc/passwd", symlink=True), filename="evil.zip")


def test_too_many_entries_are_refused():
    data = zip_with({f"f{i}": b"x" for i in range(5)})
    with pytest.raises(ValidationFailed, match="5 entries; at most 4"):
        read_zip(data, filename="many.zip", limits=BundleLimits(max_entries=4))


def test_total_size_cap_is_enforced_while_reading():
    data = zip_with({"a": b"x" * 3000, "b": b"y" * 3000})
    with pytest.raises(ValidationFailed, match="unpacks to more than"):
        read_zip(data, filename="big.zip", limits=BundleLimits(max_total_bytes=5000))


def test_decompression_bomb_is_refused():
    data = zip_with({"bomb.bin": b"\0" * (8 * 1024 * 1024)})
    with pytest.raises(ValidationFailed, match="compressed more than 100:1"):
        read_zip(data, filename="bomb.zip")


def test_lying_header_sizes_do_not_bypass_the_cap():
    data = bytearray(zip_with({"a": b"z" * 10_000}))
    # Shrink the declared uncompressed size in the central directory; reading must still count real bytes.
    index = data.rfind(b"PK\x01\x02")
    data[index + 24 : index + 28] = (10).to_bytes(4, "little")
    with pytest.raises(ValidationFailed):
        read_zip(bytes(data), filename="liar.zip", limits=BundleLimits(max_total_bytes=5000))


def test_upload_size_cap(creator):
    with pytest.raises(ValidationFailed, match="larger than"):
        bundle_import(
            actor=creator, data=b"x" * 2_000_000, filename="x.zip", limits=BundleLimits(max_upload_bytes=1_000_000)
        )


# --- Commands -------------------------------------------------------------------------------------


def test_export_and_import_commands(creator, tmp_path):
    make_version(creator)
    target = tmp_path / "lab.zip"
    out = io.StringIO()
    call_command("export_scenario", "pivot-lab", "--version", "1", "-o", str(target), stdout=out)
    assert "Wrote Pivot lab v1" in out.getvalue() and zipfile.is_zipfile(target)
    call_command("import_scenario", str(target), "--as", creator.email.upper(), stdout=out)
    assert "Imported scenario.yaml as Pivot lab v2 (pivot-lab, new version of pivot-lab, draft)." in out.getvalue()


def test_import_command_on_a_folder(creator):
    out = io.StringIO()
    folder = Path(__file__).parent / "data" / "ctfd" / "web-cookie"
    call_command("import_scenario", str(folder), "--as", creator.email, stdout=out)
    assert "as Cookie Monster v1 (cookie-monster, new scenario, draft)" in out.getvalue()


def test_command_errors_are_clear(creator, tmp_path):
    with pytest.raises(CommandError, match="no scenario with the slug 'nope'"):
        call_command("export_scenario", "nope", "-o", str(tmp_path / "x.zip"))
    with pytest.raises(CommandError, match="No user has the email"):
        call_command("import_scenario", str(tmp_path), "--as", "ghost@example.test")
    with pytest.raises(CommandError, match="does not exist"):
        call_command("import_scenario", str(tmp_path / "missing.zip"), "--as", creator.email)
    broken = Path(__file__).parent / "data" / "ctfd" / "broken" / "bad-flag-type" / "challenge.yml"
    with pytest.raises(CommandError) as exc:
        call_command("import_scenario", str(broken), "--as", creator.email)
    assert f"{broken}, line 6, flags[1].type: Unknown flag type 'glob'" in str(exc.value)


def test_manifest_must_say_its_format(creator):
    manifest = base_manifest(format="something-else")
    with pytest.raises(ValidationFailed, match=r"scenario\.yaml, line 1, format: A RangeX bundle manifest"):
        bundle_import(actor=creator, data=zip_with({}, manifest), filename="t.zip")


def test_a_lone_scenario_yaml_imports(creator):
    raw = yaml.safe_dump(base_manifest()).encode()
    version = bundle_import(actor=creator, data=raw, filename="scenario.yaml")
    assert version.scenario.slug == "tiny"


def _version_actions(version) -> list[str]:
    rows = AuditLog.objects.filter(target_id=str(version.pk)).order_by("timestamp", "id")
    return [r.action_type for r in rows if r.action_type != AuditAction.SCENARIO_VERSION_IMPORT]


def test_an_import_and_a_hand_made_version_get_the_same_numbering_and_audit_rows(creator):
    from apps.scenarios import services
    from apps.scenarios.models import ScenarioAsset

    fields = {"title": "Twin", "short_description": "Made twice.", "category": "web", "questions": QUESTIONS}
    hand = services.scenario_create(actor=creator, slug="twin-by-hand", **fields)
    services.machine_add(version=hand, actor=creator, name="attacker", image_ref="a/b:1", network_group="dmz")
    services.machine_add(version=hand, actor=creator, name="pivot", image_ref="a/b:1", network_group="dmz",
                         is_pivot_host=True)  # fmt: skip
    services.pivot_point_add(version=hand, actor=creator, source="dmz", target="internal")
    services.scenario_version_component_save(
        version=hand,
        actor=creator,
        obj=ScenarioAsset(asset_type="download", file_name="notes.txt", file=ContentFile(b"hi", name="notes.txt")),
    )

    manifest = base_manifest(
        scenario={"slug": "twin-imported"},
        version={k: v for k, v in fields.items() if k != "questions"},
        hints=[],
        machines=[
            {"name": "attacker", "image": {"ref": "a/b:1"}, "network_group": "dmz"},
            {"name": "pivot", "image": {"ref": "a/b:1"}, "network_group": "dmz", "is_pivot_host": True},
        ],
        pivot_points=[{"source": "dmz", "target": "internal"}],
        assets=[{"file": "assets/notes.txt", "asset_type": "download", "file_name": "notes.txt"}],
    )
    imported = bundle_import(actor=creator, data=zip_with({"assets/notes.txt": b"hi"}, manifest), filename="t.zip")

    assert hand.version_number == imported.version_number == 1
    assert (
        _version_actions(imported)
        == _version_actions(hand)
        == [
            AuditAction.SCENARIO_CREATE,
            AuditAction.SCENARIO_VERSION_MACHINE_CREATE,
            AuditAction.SCENARIO_VERSION_MACHINE_CREATE,
            AuditAction.SCENARIO_VERSION_PIVOT_CREATE,
            AuditAction.SCENARIO_VERSION_ASSET_CREATE,
        ]
    )

    hand_next = services.scenario_version_new(source=hand, actor=creator)
    imported_next = bundle_import(actor=creator, data=zip_with({"assets/notes.txt": b"hi"}, manifest), filename="t.zip")
    assert hand_next.version_number == imported_next.version_number == 2
    assert _version_actions(hand_next)[0] == _version_actions(imported_next)[0] == AuditAction.SCENARIO_VERSION_NEW
