"""The scenario admin: creator scoping, DRAFT-only editing, workflow buttons and actions, review tools."""

from __future__ import annotations

import json

import pytest
from django import forms
from django.contrib.messages import get_messages
from django.urls import reverse

from apps.accounts.factories import CreatorFactory
from apps.images.models import RegistryCredential
from apps.scenarios import services
from apps.scenarios.factories import draft_version, passing_test_run, published_version, submitted_version
from apps.scenarios.models import Scenario, ScenarioVersion, VersionStatus

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:scenarios_scenarioversion_changelist"


def change_url(version):
    return reverse("admin:scenarios_scenarioversion_change", args=[version.pk])


def step_url(version, step):
    return reverse("admin:scenarios_scenarioversion_workflow", args=[version.pk, step])


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def change_form_data(response) -> dict:
    """Return the POST data the change page would send unchanged, inline formsets included."""
    data = {}

    def add(form):
        for name, field in form.fields.items():
            bound = form[name]
            value = bound.value()
            if field.disabled or value is None or isinstance(field, forms.FileField):
                continue
            if isinstance(value, bool):
                if value:
                    data[bound.html_name] = "on"
                continue
            data[bound.html_name] = value

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        add(formset.management_form)
        for form in formset.forms:
            add(form)
    return data


def test_creator_sees_only_their_own_versions(creator, creator_client):
    mine = draft_version(creator=creator, title="Mine")
    draft_version(title="Someone else's")
    response = creator_client.get(reverse(CHANGELIST))
    assert response.status_code == 200
    assert list(response.context["cl"].queryset) == [mine]


def test_another_creators_version_is_not_found(creator_client):
    other = draft_version()
    assert creator_client.get(change_url(other)).status_code == 404
    assert creator_client.post(step_url(other, "submit")).status_code == 404
    assert creator_client.get(reverse("admin:scenarios_scenarioversion_diff", args=[other.pk])).status_code == 404
    scenario_url = reverse("admin:scenarios_scenario_change", args=[other.scenario.pk])
    assert creator_client.get(scenario_url).status_code == 404
    other.refresh_from_db()
    assert other.status == VersionStatus.DRAFT


def test_creator_edits_their_draft_and_its_questions(creator, creator_client):
    version = draft_version(creator=creator)
    page = creator_client.get(change_url(version))
    assert page.status_code == 200
    data = change_form_data(page)
    assert '"id": "q1"' in data["questions"]
    data["title"] = "Renamed lab"
    data["questions"] = json.dumps(
        [{"id": "q1", "type": "numeric", "prompt": "How many?", "points": 5, "answer": 3, "tolerance": 0}]
    )
    response = creator_client.post(change_url(version), data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    version.refresh_from_db()
    assert version.title == "Renamed lab"
    assert version.questions[0]["type"] == "numeric"


def test_bad_question_json_is_reported_on_the_field(creator, creator_client):
    version = draft_version(creator=creator)
    data = change_form_data(creator_client.get(change_url(version)))
    data["questions"] = json.dumps([{"id": "q1", "type": "essay"}])
    data["hints"] = "[{not json"
    response = creator_client.post(change_url(version), data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert any(e.startswith("Question 1 (q1), type:") for e in errors["questions"])
    assert "hints" in errors


def test_creator_adds_a_machine_inline(creator, creator_client):
    version = draft_version(creator=creator)
    data = change_form_data(creator_client.get(change_url(version)))
    data.update(
        {
            "machines-TOTAL_FORMS": "2",
            "machines-1-name": "victim",
            "machines-1-role": "victim",
            "machines-1-sort_order": "1",
            "machines-1-network_group": "lab",
            "machines-1-image_source_type": "variant",
            "machines-1-image_variant": str(version.machines.get().image_variant_id),
            "machines-1-resource_profile": "small",
            "machines-1-network_egress_policy": "none",
            "machines-1-exposed_ports": "[]",
            "machines-1-environment_vars": "{}",
            "machines-1-entrypoints": "[]",
            "machines-1-ssh_password": "hunter2",
        }
    )
    response = creator_client.post(change_url(version), data)
    assert response.status_code == 302
    victim = version.machines.get(name="victim")
    assert victim.ssh_password == "hunter2"
    # A second save with the secret left blank keeps it.
    data = change_form_data(creator_client.get(change_url(version)))
    assert creator_client.post(change_url(version), data).status_code == 302
    victim.refresh_from_db()
    assert victim.ssh_password == "hunter2"


def test_submitted_version_is_read_only(creator, creator_client):
    version = submitted_version(creator=creator)
    page = creator_client.get(change_url(version))
    assert page.status_code == 200
    assert not page.context["has_change_permission"]
    assert b"<pre>[\n  {\n    &quot;id&quot;: &quot;q1&quot;" in page.content
    assert creator_client.post(change_url(version), {"title": "Sneaky"}).status_code == 403
    version.refresh_from_db()
    assert version.title != "Sneaky"


def test_creator_submits_and_withdraws_with_the_buttons(creator, creator_client):
    version = draft_version(creator=creator)
    page = creator_client.get(change_url(version))
    assert b"rx-workflow-submit" in page.content
    assert b"rx-workflow-approve" not in page.content
    response = creator_client.post(step_url(version, "submit"))
    assert response.status_code == 302
    version.refresh_from_db()
    assert version.status == VersionStatus.SUBMITTED
    creator_client.post(step_url(version, "withdraw"))
    version.refresh_from_db()
    assert version.status == VersionStatus.DRAFT


def test_submit_of_an_incomplete_version_is_a_message_not_a_500(creator, creator_client):
    version = draft_version(creator=creator, mission_text="", machines=[])
    response = creator_client.post(step_url(version, "submit"), follow=True)
    assert response.status_code == 200
    text = " ".join(messages_of(response)) or response.content.decode()
    assert "mission" in text.lower()
    version.refresh_from_db()
    assert version.status == VersionStatus.DRAFT


def test_creator_cannot_approve_even_through_the_url(creator, creator_client):
    version = submitted_version(creator=creator)
    response = creator_client.post(step_url(version, "approve"), follow=True)
    assert response.status_code == 200
    assert any("Only admins" in m for m in messages_of(response))
    version.refresh_from_db()
    assert version.status == VersionStatus.SUBMITTED


def test_admin_approves_and_publishes_through_actions(admin_client_2fa):
    version = submitted_version()
    passing_test_run(version)
    response = admin_client_2fa.post(
        reverse(CHANGELIST), {"action": "approve_versions", "_selected_action": [str(version.pk)]}
    )
    assert response.status_code == 302
    version.refresh_from_db()
    assert version.status == VersionStatus.APPROVED
    admin_client_2fa.post(reverse(CHANGELIST), {"action": "publish_versions", "_selected_action": [str(version.pk)]})
    version.refresh_from_db()
    assert version.status == VersionStatus.PUBLISHED
    assert Scenario.objects.get(pk=version.scenario_id).is_published


def test_self_approval_shows_an_error(admin_user, admin_client_2fa):
    admin_user.role_creator = True
    admin_user.save(update_fields=["role_creator"])
    version = submitted_version(creator=admin_user)
    response = admin_client_2fa.post(
        reverse(CHANGELIST), {"action": "approve_versions", "_selected_action": [str(version.pk)]}, follow=True
    )
    assert any("your own" in m for m in messages_of(response))
    version.refresh_from_db()
    assert version.status == VersionStatus.SUBMITTED


def test_reject_action_asks_for_a_reason(admin_client_2fa):
    version = submitted_version()
    selection = {"action": "reject_versions", "_selected_action": [str(version.pk)]}
    form = admin_client_2fa.post(reverse(CHANGELIST), selection)
    assert form.status_code == 200
    assert b'name="reason"' in form.content
    blank = admin_client_2fa.post(reverse(CHANGELIST), {**selection, "reason": "  "})
    assert blank.status_code == 200
    version.refresh_from_db()
    assert version.status == VersionStatus.SUBMITTED
    done = admin_client_2fa.post(reverse(CHANGELIST), {**selection, "reason": "Hint h1 gives the flag away."})
    assert done.status_code == 302
    version.refresh_from_db()
    assert version.status == VersionStatus.REJECTED
    assert version.reject_reason == "Hint h1 gives the flag away."


def test_reject_button_shows_a_form_then_rejects(admin_client_2fa):
    version = submitted_version()
    assert admin_client_2fa.get(step_url(version, "reject")).status_code == 200
    response = admin_client_2fa.post(step_url(version, "reject"), {"reason": "Too easy."})
    assert response.status_code == 302
    version.refresh_from_db()
    assert (version.status, version.reject_reason) == (VersionStatus.REJECTED, "Too easy.")


def test_new_version_button_opens_the_new_draft(admin_client_2fa):
    version = published_version()
    response = admin_client_2fa.post(step_url(version, "new"))
    new = ScenarioVersion.objects.get(scenario=version.scenario, version_number=2)
    assert response.status_code == 302 and response["Location"] == change_url(new)
    assert new.based_on_id == version.pk


def test_archive_action_of_a_creator(creator, creator_client):
    version = draft_version(creator=creator)
    creator_client.post(reverse(CHANGELIST), {"action": "archive_versions", "_selected_action": [str(version.pk)]})
    version.refresh_from_db()
    assert version.status == VersionStatus.ARCHIVED


def test_review_queue_lists_submissions_oldest_first(admin_client_2fa, creator_client):
    first = submitted_version(title="First in")
    second = submitted_version(title="Second in")
    draft_version(title="Not submitted")
    response = admin_client_2fa.get(reverse("admin:scenarios_scenarioversion_review_queue"))
    assert response.status_code == 200
    assert list(response.context["versions"]) == [first, second]
    assert creator_client.get(reverse("admin:scenarios_scenarioversion_review_queue")).status_code == 403


def test_diff_page_shows_what_changed(admin_client_2fa):
    version = published_version()
    owner = version.scenario.created_by_user
    new = services.scenario_version_new(source=version, actor=owner)
    services.scenario_version_update(version=new, actor=owner, data={"mission_text": "A brand new mission."})
    response = admin_client_2fa.get(reverse("admin:scenarios_scenarioversion_diff", args=[new.pk]))
    assert response.status_code == 200
    lines = [line for cls, line in response.context["lines"] if cls == "add"]
    assert any("A brand new mission." in line for line in lines)


def test_creator_creates_a_scenario_in_the_admin(creator, creator_client):
    response = creator_client.post(
        reverse("admin:scenarios_scenario_add"),
        {"slug": "my-lab", "title": "My lab", "short_description": "Short.", "category": "web"},
    )
    version = ScenarioVersion.objects.get(scenario__slug="my-lab")
    assert response.status_code == 302 and response["Location"] == change_url(version)
    assert version.scenario.created_by_user == creator and version.status == VersionStatus.DRAFT


@pytest.mark.parametrize(
    "name",
    [
        "scenarios_scenario",
        "scenarios_scenarioversion",
        "scenarios_tool",
        "images_dockerimage",
        "images_imagevariant",
        "images_platformimage",
        "images_registrycredential",
        "images_dockercredential",
    ],
)
def test_admin_pages_load(admin_client_2fa, name):
    published_version()
    assert admin_client_2fa.get(reverse(f"admin:{name}_changelist")).status_code == 200
    assert admin_client_2fa.get(reverse(f"admin:{name}_add")).status_code in (200, 403)


def test_registry_credential_secrets_are_never_shown(creator, creator_client):
    credential = RegistryCredential.objects.create(
        label="GHCR",
        registry_url="ghcr.io",
        username_enc="robot-user",
        password_or_token_enc="ghp_supersecret",
        created_by_user=creator,
    )
    page = creator_client.get(reverse("admin:images_registrycredential_change", args=[credential.pk]))
    assert page.status_code == 200
    assert b"ghp_supersecret" not in page.content and b"robot-user" not in page.content
    other = RegistryCredential.objects.create(
        label="Other",
        registry_url="ghcr.io",
        username_enc="u",
        password_or_token_enc="p",
        created_by_user=CreatorFactory(),
    )
    listing = creator_client.get(reverse("admin:images_registrycredential_changelist"))
    assert list(listing.context["cl"].queryset) == [credential]
    assert other not in listing.context["cl"].queryset


def test_version_list_and_review_queue_query_counts_do_not_grow(admin_client_2fa, django_assert_max_num_queries):
    for _ in range(6):
        submitted_version()
    with django_assert_max_num_queries(12):
        assert admin_client_2fa.get(reverse(CHANGELIST)).status_code == 200
    with django_assert_max_num_queries(8):
        assert admin_client_2fa.get(reverse("admin:scenarios_scenarioversion_review_queue")).status_code == 200
    with django_assert_max_num_queries(10):
        assert admin_client_2fa.get(reverse("admin:scenarios_scenario_changelist")).status_code == 200


def test_creator_cannot_open_the_reject_form(creator, creator_client):
    version = submitted_version(creator=creator)
    response = creator_client.get(step_url(version, "reject"))
    assert response.status_code == 302 and response["Location"] == change_url(version)


def test_creator_authors_the_solver_writeup_next_to_the_admin_only_one(creator, creator_client):
    version = draft_version(creator=creator)
    page = creator_client.get(change_url(version))
    html = page.content.decode()
    assert 'name="solver_writeup"' in html and 'name="solution_writeup"' in html
    data = change_form_data(page)
    data["solver_writeup"] = "## How it was solved"
    response = creator_client.post(change_url(version), data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    version.refresh_from_db()
    assert version.solver_writeup == "## How it was solved"
