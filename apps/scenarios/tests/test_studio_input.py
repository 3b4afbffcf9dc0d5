"""The version page never loses input: failed and refused saves, machine files, save-first buttons."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.scenarios import services, staging
from apps.scenarios.factories import draft_version, submitted_version
from apps.scenarios.models import ScenarioAsset, VersionStatus
from apps.scenarios.tests.test_admin import change_form_data, change_url, messages_of, step_url
from rangex.core.errors import PermissionDenied
from rangex.core.system import system_settings_update

pytestmark = pytest.mark.django_db


def _media_files() -> set[str]:
    root = Path(settings.MEDIA_ROOT) / "scenario-assets"
    return {str(p) for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def _with_new_machine(version, data: dict, name: str = "web") -> dict:
    """Add a second machine row, as "Add another machine" does."""
    first = version.machines.get()
    data.update(
        {
            "machines-TOTAL_FORMS": "2",
            "machines-1-name": name,
            "machines-1-role": "victim",
            "machines-1-sort_order": "1",
            "machines-1-network_group": "lab",
            "machines-1-image_source_type": "variant",
            "machines-1-image_variant": str(first.image_variant_id),
            "machines-1-resource_profile": "small",
            "machines-1-network_egress_policy": "none",
            "machines-1-exposed_ports": "[]",
            "machines-1-environment_vars": "{}",
            "machines-1-entrypoints": "[]",
            "machines-1-ready_check": "{}",
            "machines-1-capabilities": "[]",
        }
    )
    return data


def _with_asset(data: dict, i: int = 0, **fields) -> dict:
    data["assets-TOTAL_FORMS"] = str(i + 1)
    data.update(
        {
            f"assets-{i}-file_name": fields.get("file_name", "notes.txt"),
            f"assets-{i}-asset_type": fields.get("asset_type", "machine_file"),
            f"assets-{i}-machine_name": fields.get("machine_name", ""),
            f"assets-{i}-target_path": fields.get("target_path", "/srv/notes.txt"),
            f"assets-{i}-permissions": "0644",
            f"assets-{i}-description": "",
        }
    )
    if fields.get("upload", True):
        data[f"assets-{i}-file"] = SimpleUploadedFile(
            fields.get("file_name", "notes.txt"), fields.get("content", b"secret notes")
        )
    return data


def test_a_machine_file_targets_a_machine_added_in_the_same_save(creator, creator_client):
    version = draft_version(creator=creator)
    data = _with_new_machine(version, change_form_data(creator_client.get(change_url(version))))
    _with_asset(data, machine_name="web")
    response = creator_client.post(change_url(version), data)
    assert response.status_code == 302, response.context["errors"] if response.context else ""
    asset = version.assets.get()
    assert asset.machine == version.machines.get(name="web")
    assert asset.file.read() == b"secret notes"


def test_the_asset_machine_list_offers_the_machines_of_the_page(creator, creator_client):
    version = draft_version(creator=creator)
    page = creator_client.get(change_url(version))
    machine = version.machines.get().name
    assert f'<option value="{machine}">{machine}</option>' in page.content.decode()


def test_a_failed_save_shows_everything_as_typed_and_keeps_the_chosen_file(
    creator, creator_client, django_capture_on_commit_callbacks
):
    version = draft_version(creator=creator, title="Old title")
    before = _media_files()
    data = _with_new_machine(version, change_form_data(creator_client.get(change_url(version))))
    data.update({"title": "Web Login Bypass", "mission_text": "Log in **without** the password."})
    _with_asset(data, machine_name="web", target_path="relative/notes.txt")
    response = creator_client.post(change_url(version), data)

    assert response.status_code == 200
    page = response.content.decode()
    assert "Give the absolute path inside the machine" in page
    assert 'value="Web Login Bypass"' in page and "Log in **without** the password." in page
    assert 'value="web"' in page and 'value="relative/notes.txt"' in page
    assert "Kept from your last try: <strong>notes.txt</strong>" in page
    version.refresh_from_db()
    assert version.title == "Old title" and version.machines.count() == 1 and not version.assets.exists()
    assert _media_files() == before

    # The next save, with the path fixed and no file chosen again, stores the kept file.
    token = re.search(r'name="assets-0-file-staged" value="([^"]+)"', page).group(1)
    del data["assets-0-file"]
    data.update({"assets-0-target_path": "/srv/notes.txt", "assets-0-file-staged": token})
    assert staging.staged_upload_name(token=token, user_id=creator.pk) == "notes.txt"
    with django_capture_on_commit_callbacks(execute=True):
        response = creator_client.post(change_url(version), data)
    assert response.status_code == 302
    asset = version.assets.get()
    assert asset.file_name == "notes.txt" and asset.file.read() == b"secret notes"
    assert asset.machine.name == "web"
    assert staging.staged_upload_name(token=token, user_id=creator.pk) is None


def test_a_kept_file_is_not_usable_by_another_user(creator, creator_client, client):
    from apps.accounts.factories import CreatorFactory

    token = staging.staged_upload_keep(upload=SimpleUploadedFile("a.txt", b"x"), user_id=creator.pk)
    other = CreatorFactory()
    assert staging.staged_upload_open(token=token, user_id=other.pk) is None
    assert staging.staged_upload_open(token=token + "x", user_id=creator.pk) is None
    assert staging.staged_upload_open(token=token, user_id=creator.pk).read() == b"x"


def test_a_refused_save_changes_no_row_and_leaves_no_file(creator, creator_client):
    # Each file fits the quota alone, so the page accepts both; together they do not, so the service
    # refuses the second while saving, after the first file was already stored.
    system_settings_update(actor=None, max_storage_per_user_bytes=30)
    version = draft_version(creator=creator, title="Old title")
    before = _media_files()
    data = change_form_data(creator_client.get(change_url(version)))
    data["title"] = "New title"
    _with_asset(data, 0, asset_type="download", target_path="", file_name="one.txt", content=b"x" * 20)
    _with_asset(data, 1, asset_type="download", target_path="", file_name="two.txt", content=b"y" * 20)
    response = creator_client.post(change_url(version), data)

    assert response.status_code == 200
    page = response.content.decode()
    assert "Nothing was saved" in page and "quota" in page
    assert 'value="New title"' in page
    version.refresh_from_db()
    assert version.title == "Old title" and not ScenarioAsset.objects.filter(scenario_version=version).exists()
    assert _media_files() == before


def test_submit_on_a_draft_saves_the_page_first(creator, creator_client):
    version = draft_version(creator=creator)
    data = change_form_data(creator_client.get(change_url(version)))
    data["mission_text"] = "The mission I just typed."
    data["_workflow"] = "submit"
    response = creator_client.post(change_url(version), data)
    assert response.status_code == 302
    version.refresh_from_db()
    assert version.mission_text == "The mission I just typed."
    assert version.status == VersionStatus.SUBMITTED


def test_new_version_on_a_draft_saves_the_page_first(creator, creator_client):
    version = draft_version(creator=creator)
    data = change_form_data(creator_client.get(change_url(version)))
    data.update({"title": "Typed before cloning", "_workflow": "new"})
    response = creator_client.post(change_url(version), data)
    assert response.status_code == 302
    version.refresh_from_db()
    assert version.title == "Typed before cloning"
    assert version.scenario.versions.get(version_number=2).title == "Typed before cloning"


def test_the_buttons_of_a_draft_submit_the_change_form(creator, creator_client):
    page = creator_client.get(change_url(draft_version(creator=creator))).content.decode()
    assert 'form="scenarioversion_form" name="_workflow" value="submit"' in page
    assert 'form="scenarioversion_form" name="_workflow" value="new"' in page


def test_archive_asks_for_confirmation_and_says_it_cannot_be_undone(creator, creator_client):
    version = draft_version(creator=creator)
    response = creator_client.post(step_url(version, "archive"))
    assert response.status_code == 200
    assert "cannot be undone" in response.content.decode()
    version.refresh_from_db()
    assert version.status == VersionStatus.DRAFT
    # Saving first from the page leads to the same question.
    data = change_form_data(creator_client.get(change_url(version)))
    data["_workflow"] = "archive"
    response = creator_client.post(change_url(version), data)
    assert response.status_code == 302 and response["Location"] == step_url(version, "archive")
    response = creator_client.post(step_url(version, "archive"), {"confirm": "yes"}, follow=True)
    version.refresh_from_db()
    assert version.status == VersionStatus.ARCHIVED
    assert any("archived" in m for m in messages_of(response))


def test_only_the_creator_may_withdraw(admin_user, admin_client_2fa):
    version = submitted_version()
    page = admin_client_2fa.get(change_url(version)).content.decode()
    assert "rx-workflow-withdraw" not in page
    with pytest.raises(PermissionDenied):
        services.scenario_version_withdraw(version=version, actor=admin_user)
    version.refresh_from_db()
    assert version.status == VersionStatus.SUBMITTED


def test_the_diff_compares_the_mission_line_by_line(creator, admin_client_2fa):
    first = draft_version(creator=creator, mission_text="Line one.\r\nLine two.\r\nLine three.")
    second = services.scenario_version_new(source=first, actor=creator)
    services.scenario_version_update(
        version=second, actor=creator, data={"mission_text": "Line one.\r\nLine 2, changed.\r\nLine three."}
    )
    response = admin_client_2fa.get(reverse("admin:scenarios_scenarioversion_diff", args=[second.pk]))
    lines = [line for _, line in response.context["lines"]]
    assert "-  Line two." in lines and "+  Line 2, changed." in lines
    assert not any("\\r\\n" in line for line in lines)


def _try(client, version, question, answer, **extra):
    url = reverse("admin:scenarios_scenarioversion_try_answer", args=[version.pk])
    return client.post(url, {"question": json.dumps(question), "answer": answer, **extra}).json()


def test_the_flag_tester_runs_the_grading_engine_on_the_question_as_typed(creator, creator_client):
    version = draft_version(creator=creator)
    question = {
        "id": "q9",
        "type": "flag",
        "prompt": "Which flag?",
        "points": 30,
        "flags": [{"type": "regex", "content": r"flag\{[0-9]{4}\}", "case_insensitive": False}],
    }
    assert _try(creator_client, version, question, "flag{1234}") == {
        "ok": True,
        "correct": True,
        "points": 30,
        "message": "Accepted: 30 of 30 points.",
    }
    assert _try(creator_client, version, question, "flag{12}")["correct"] is False
    numeric = {"id": "n", "type": "numeric", "prompt": "How many?", "points": 10, "answer": 42, "tolerance": 1}
    assert _try(creator_client, version, numeric, "43")["correct"] is True
    broken = {"id": "b", "type": "single_choice", "prompt": "Pick", "points": 5, "options": ["a"], "correct": [3]}
    verdict = _try(creator_client, version, broken, "0")
    assert not verdict["ok"] and verdict["message"].startswith("Fix the question first: Question 1 (b)")
    assert not version.questions or version.questions[0]["id"] != "q9"


def test_the_flag_tester_is_for_the_versions_creator_only(creator_client):
    version = draft_version()
    url = reverse("admin:scenarios_scenarioversion_try_answer", args=[version.pk])
    assert creator_client.post(url, {"question": "{}", "answer": "x"}).status_code == 404


def test_question_errors_name_the_question_from_one_in_words(creator, creator_client):
    version = draft_version(creator=creator)
    data = change_form_data(creator_client.get(change_url(version)))
    data["questions"] = json.dumps(
        [
            {"id": "q1", "type": "flag", "prompt": "Flag?", "points": 5, "flags": [{"type": "static", "content": "x"}]},
            {"id": "q2", "type": "single_choice", "prompt": "Pick", "points": 5, "options": ["a", "b"], "correct": [7]},
        ]
    )
    response = creator_client.post(change_url(version), data)
    errors = response.context["adminform"].form.errors["questions"]
    assert any(e.startswith("Question 2 (q2), correct options:") for e in errors)
    assert not any("questions[1]" in e for e in errors)
    # The editor shows the message on the second question's card.
    assert '"1": ["Question 2 (q2), correct options:' in response.content.decode()


def test_check_saves_and_lists_every_problem_in_words_next_to_its_field(creator, creator_client):
    version = draft_version(
        creator=creator,
        mission_text="",
        machines=[
            {"name": "attacker", "network_group": "dmz", "allow_solver_entry": True},
            {"name": "web", "network_group": "internal", "allow_solver_entry": False},
        ],
    )
    services.pivot_point_add(version=version, actor=creator, source="dmz", target="internal")
    data = change_form_data(creator_client.get(change_url(version)))
    data.update({"title": "Saved by Check", "_workflow": "check"})
    response = creator_client.post(change_url(version), data)
    assert response.status_code == 302 and response["Location"] == change_url(version) + "?check=1"
    version.refresh_from_db()
    assert version.title == "Saved by Check" and version.status == VersionStatus.DRAFT

    page = creator_client.get(response["Location"]).content.decode()
    assert "Checklist: fix these before you submit" in page
    assert 'data-field="mission_text">Write the mission' in page
    assert 'data-field="pivot_points-0-source_network_group">No machine is on both' in page
    assert 'data-field="machines-1-network_group">Machine &#x27;web&#x27;' in page
    assert "✓ Questions and hints complete" in page
    assert "mission_text:" not in page


def test_a_refused_submit_says_so_in_words_and_shows_the_checklist(creator, creator_client):
    version = draft_version(creator=creator, mission_text="")
    data = change_form_data(creator_client.get(change_url(version)))
    data["_workflow"] = "submit"
    response = creator_client.post(change_url(version), data, follow=True)
    text = " ".join(messages_of(response))
    assert "was not submitted" in text and "Write the mission" in text and "mission_text" not in text
    assert "Checklist: fix these before you submit" in response.content.decode()


def test_admins_are_told_when_a_version_is_submitted(
    creator, admin_user, mailoutbox, django_capture_on_commit_callbacks
):
    from rangex.core.models import Notification

    admin_user.notification_preferences = {"email": {"review": True}}
    admin_user.save(update_fields=["notification_preferences"])
    version = draft_version(creator=creator)
    with django_capture_on_commit_callbacks(execute=True):
        services.scenario_version_submit(version=version, actor=creator)
    note = Notification.objects.get(user=admin_user)
    assert note.title == f"Submitted for review: {version}"
    assert note.link == change_url(version)
    assert [m.to for m in mailoutbox] == [[admin_user.email]]
    assert not Notification.objects.filter(user=creator).exists()


def test_the_review_queue_and_the_import_page_are_linked_from_the_admin(creator_client, admin_client_2fa):
    queue = reverse("admin:scenarios_scenarioversion_review_queue")
    dashboard = admin_client_2fa.get(reverse("admin:index")).content.decode()
    assert f'href="{queue}"' in dashboard and 'href="/studio/import/"' in dashboard
    # The navigation beside every other admin page.
    admin_page = admin_client_2fa.get(reverse("admin:scenarios_scenarioversion_changelist")).content.decode()
    assert f'href="{queue}"' in admin_page and 'href="/studio/import/"' in admin_page
    creator_page = creator_client.get(reverse("admin:scenarios_scenarioversion_changelist")).content.decode()
    assert 'href="/studio/import/"' in creator_page and f'href="{queue}"' not in creator_page


def test_the_mission_preview_renders_markdown_as_solvers_see_it(creator, creator_client):
    version = draft_version(creator=creator)
    url = reverse("admin:scenarios_scenarioversion_markdown", args=[version.pk])
    response = creator_client.post(url, {"text": "# Title\n\n**bold** <script>alert(1)</script>"})
    html = response.content.decode()
    assert "<h1>Title</h1>" in html and "<strong>bold</strong>" in html and "<script>" not in html
    assert (
        creator_client.post(reverse("admin:scenarios_scenarioversion_markdown", args=[draft_version().pk])).status_code
        == 404
    )


def test_the_flag_placeholder_comes_from_the_questions_flags():
    from apps.scenarios.authoring import flag_placeholder

    flag = {"type": "flag", "flags": [{"type": "static", "content": "HTB{abc}"}]}
    assert flag_placeholder(flag) == "HTB{...}"
    assert flag_placeholder({"type": "flag", "flags": [{"type": "regex", "content": "x+"}]}) == "Your answer"
    assert flag_placeholder({"type": "flag", "answer": "flag{x}", "match": "exact"}) == "flag{...}"
    assert flag_placeholder({"type": "numeric"}) == "A number"
    assert flag_placeholder({"type": "single_choice"}) == ""


def test_machine_labels_and_statuses_read_as_words(creator, creator_client):
    version = draft_version(creator=creator)
    page = creator_client.get(change_url(version)).content.decode()
    for label in (">SSH<", ">RDP<", "Image reference:", "Solvers may enter", "Pivot host"):
        assert label in page
    for raw in ("Ssh enabled", "Rdp enabled", "Image ref:"):
        assert raw not in page
    # The two help texts of the entry and pivot boxes each stand in a row of their own.
    rows = page.split('class="form-row')
    entry = next(r for r in rows if "Solvers get a terminal on this machine." in r)
    assert "Joins both networks" not in entry
    listing = creator_client.get(reverse("admin:scenarios_scenarioversion_changelist")).content.decode()
    assert '<span class="rx-status rx-status-draft">Draft</span>' in listing


def test_the_new_scenario_form_fills_the_slug_from_the_title(creator_client):
    page = creator_client.get(reverse("admin:scenarios_scenario_add")).content.decode()
    assert "js/admin_scenario_add.js" in page and "admin/js/urlify.js" in page
    assert page.index('name="title"') < page.index('name="slug"')


def test_a_json_box_says_what_is_wrong_and_where(creator, creator_client):
    version = draft_version(creator=creator)
    data = change_form_data(creator_client.get(change_url(version)))
    data["machines-0-exposed_ports"] = '[{"port": 80,}]'
    data["metadata"] = "{'a': 1}"
    response = creator_client.post(change_url(version), data)
    page = response.content.decode()
    assert "This is not valid JSON: expecting property name enclosed in double quotes at line 1, column 2." in page
    assert "at line 1, column 14." in page
    assert "Enter a valid JSON." not in page
