"""The solver catalog: only published, non-event versions; search, filters, sorting, pages, no secrets."""

import pytest

from apps.accounts.factories import AdminFactory, UserFactory
from apps.scenarios import services
from apps.scenarios.catalog import catalog_get, catalog_list
from apps.scenarios.factories import approved_version, draft_version, passing_test_run, published_version
from apps.scenarios.social import scenario_favorite_set, scenario_rate
from rangex.core.errors import NotFound

pytestmark = pytest.mark.django_db

FLAG = "RX{never-show-this-flag}"
SSH_PASSWORD = "ssh-pass-never-shown"
ENV_SECRET = "env-value-never-shown"
WRITEUP = "The writeup says: exploit the upload form."
SOLVER_WRITEUP = "Shown only after a session ended."


def _slugs(qs):
    return [v.scenario.slug for v in qs]


def _publish(version):
    admin = AdminFactory()
    services.scenario_version_submit(version=version, actor=version.scenario.created_by_user)
    passing_test_run(version)
    services.scenario_version_approve(version=version, actor=admin)
    return services.scenario_version_publish(version=version, actor=admin)


def _rate(version, *ratings):
    for value in ratings:
        scenario_rate(user=UserFactory(), scenario=version.scenario, rating=value)


def _secret_version(**fields):
    return published_version(
        title="Secret keeper",
        questions=[{"id": "q1", "type": "flag", "prompt": "Flag?", "points": 10, "answer": FLAG, "match": "exact"}],
        solution_writeup=WRITEUP,
        solver_writeup=SOLVER_WRITEUP,
        machines=[
            {
                "name": "victim",
                "role": "victim",
                "network_group": "dmz",
                "ssh_enabled": True,
                "ssh_username": "root",
                "ssh_password": SSH_PASSWORD,
                "environment_vars": {"DB_PASSWORD": ENV_SECRET},
            },
            {"name": "attacker", "role": "attacker", "network_group": "dmz", "allow_solver_entry": True},
        ],
        **fields,
    )


def test_catalog_lists_only_published_versions_and_hides_event_labs(solver):
    shown = published_version(slug="shown")
    published_version(slug="event-only", scenario_type="event_lab")
    withdrawn = published_version(slug="withdrawn")
    services.scenario_version_archive(version=withdrawn, actor=AdminFactory())
    draft_version(slug="draft-only")
    approved_version(slug="approved-only")
    assert _slugs(catalog_list(user=solver)) == [shown.scenario.slug]


def test_catalog_shows_only_the_newest_published_version(solver):
    first = published_version(slug="evolving", title="Old title")
    second = services.scenario_version_new(source=first, actor=first.scenario.created_by_user)
    services.scenario_version_update(version=second, actor=first.scenario.created_by_user, data={"title": "New title"})
    _publish(second)
    listed = list(catalog_list(user=solver))
    assert [v.title for v in listed] == ["New title"]
    assert catalog_get(user=solver, slug="evolving").pk == second.pk


def test_search_matches_title_description_and_tags(solver):
    published_version(slug="by-title", title="Buffer overflow basics")
    published_version(slug="by-desc", short_description="Exploit an OVERFLOW in a daemon")
    published_version(slug="by-tag", tags=["overflow", "linux"])
    published_version(slug="other", title="SQL injection")
    found = set(_slugs(catalog_list(user=solver, q="overflow")))
    assert found == {"by-title", "by-desc", "by-tag"}


def test_filters_by_category_difficulty_type_and_tags(solver):
    published_version(slug="web-easy", category="web", difficulty="beginner", tags=["sqli", "php"])
    published_version(slug="web-hard", category="web", difficulty="expert", tags=["sqli"])
    published_version(slug="net-open", category="network", scenario_type="open_lab", tags=["nmap"])
    assert set(_slugs(catalog_list(user=solver, category="web"))) == {"web-easy", "web-hard"}
    assert _slugs(catalog_list(user=solver, difficulty="expert")) == ["web-hard"]
    assert _slugs(catalog_list(user=solver, scenario_type="open_lab")) == ["net-open"]
    assert set(_slugs(catalog_list(user=solver, tags=["sqli"]))) == {"web-easy", "web-hard"}
    assert _slugs(catalog_list(user=solver, tags=["sqli", "php"])) == ["web-easy"]


def test_catalog_page_paginates_twelve_per_page(client):
    for i in range(14):
        published_version(slug=f"page-{i:02d}")
    first = client.get("/scenarios/")
    assert first.status_code == 200
    assert first.content.count(b'class="card h-100 card-hover scenario-card"') == 12
    assert b"Page 1 of 2" in first.content
    second = client.get("/scenarios/?page=2")
    assert second.content.count(b'class="card h-100 card-hover scenario-card"') == 2


def test_catalog_page_filters_and_htmx_returns_only_the_results(client):
    published_version(slug="alpha", title="Alpha web", category="web")
    published_version(slug="beta", title="Beta network", category="network")
    page = client.get("/scenarios/", {"category": "network"})
    assert b"Beta network" in page.content and b"Alpha web" not in page.content
    partial = client.get("/scenarios/", {"q": "alpha"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="catalog-results")
    assert partial.status_code == 200
    assert b"Alpha web" in partial.content and b"Beta network" not in partial.content
    assert b"<html" not in partial.content


def test_unknown_filter_values_are_ignored_not_errors(client):
    published_version(slug="alpha")
    response = client.get("/scenarios/", {"difficulty": "impossible", "sort": "random", "page": "x"})
    assert response.status_code == 200
    assert b"alpha" in response.content


@pytest.mark.parametrize("count", [3, 30])
def test_catalog_query_count_does_not_grow_with_scenarios(solver_client, solver, count, django_assert_max_num_queries):
    for i in range(count):
        version = published_version(slug=f"q-{count}-{i}", tags=["t"])
        if i % 2:
            scenario_favorite_set(user=solver, scenario=version.scenario, on=True)
    # Session, user, unread count, facets, page count, page rows and the learner's progress (solves,
    # completed labs); the budget also allows the four queries of a system-settings cache miss (other
    # test processes may flush the shared Redis).
    with django_assert_max_num_queries(12) as captured:
        response = solver_client.get("/scenarios/")
    assert response.status_code == 200
    assert response.content.count(b"scenario-card") == min(count, 12)
    catalog_queries = [
        q["sql"]
        for q in captured.captured_queries
        if "`scenario_version`" in q["sql"] and "`environment_session`" not in q["sql"]
    ]
    assert len(catalog_queries) == 3  # facets, page count, page rows


def test_cards_show_the_users_favourites(solver_client, solver):
    starred = published_version(slug="starred", title="Starred lab")
    published_version(slug="plain", title="Plain lab")
    scenario_favorite_set(user=solver, scenario=starred.scenario, on=True)
    content = solver_client.get("/scenarios/").content.decode()
    starred_card = content.split('data-scenario="starred"')[1].split("</article>")[0]
    plain_card = content.split('data-scenario="plain"')[1].split("</article>")[0]
    assert "In your favourites" in starred_card and "In your favourites" not in plain_card


def test_anonymous_visitors_browse_the_catalog_and_detail(client):
    version = published_version(slug="open-to-all", title="Open to all")
    assert client.get("/scenarios/").status_code == 200
    detail = client.get("/scenarios/open-to-all/")
    assert detail.status_code == 200
    assert b"Sign in</a> to rate" in detail.content
    assert b'id="start-session" data-version-id="' + str(version.pk).encode() + b'" disabled' in detail.content
    assert b'id="favorite-toggle"' not in detail.content
    assert str(version.pk).encode() in detail.content


def test_detail_shows_mission_machines_and_start_button_without_secrets(solver_client):
    version = _secret_version(slug="secretive", mission_text="# Mission\n\nBreak **in**.<script>alert(1)</script>")
    response = solver_client.get("/scenarios/secretive/")
    content = response.content.decode()
    assert response.status_code == 200
    assert "<strong>in</strong>" in content and "<script>alert(1)" not in content
    assert 'id="start-session"' in content and f'data-version-id="{version.pk}"' in content
    assert f'action="/sessions/start/{version.pk}/"' in content
    assert 'data-network-group="dmz"' in content and "victim" in content
    for secret in (FLAG, SSH_PASSWORD, ENV_SECRET, WRITEUP, SOLVER_WRITEUP, "DB_PASSWORD"):
        assert secret not in content


def test_detail_of_unpublished_or_unknown_scenario_is_404(solver_client, solver):
    approved_version(slug="hidden")
    assert solver_client.get("/scenarios/hidden/").status_code == 404
    assert solver_client.get("/scenarios/no-such-thing/").status_code == 404
    with pytest.raises(NotFound):
        catalog_get(user=solver, slug="hidden")


def test_detail_topology_shows_groups_and_pivot_links(solver_client):
    version = draft_version(
        slug="pivoting",
        machines=[
            {"name": "kali", "role": "attacker", "network_group": "outside", "allow_solver_entry": True},
            {"name": "jump", "role": "service", "network_group": "outside", "is_pivot_host": True},
            {"name": "db", "role": "victim", "network_group": "inside"},
        ],
    )
    services.pivot_point_add(version=version, actor=version.scenario.created_by_user, source="outside", target="inside")
    _publish(version)
    content = solver_client.get("/scenarios/pivoting/").content.decode()
    assert 'data-network-group="inside"' in content and 'data-network-group="outside"' in content
    assert "Pivot links" in content
    # Groups are drawn in name order: "inside" then "outside".
    inside = content.split('data-network-group="inside"')[1].split('data-network-group="outside"')[0]
    assert "jump" in inside and "db" in inside and "kali" not in inside
    assert content.count('<td class="font-mono">jump') == 1
    # The table names every network the diagram draws a machine in: the pivot host is on both.
    assert 'data-networks="inside outside">inside, outside<' in content
    assert 'data-networks="outside">outside<' in content and 'data-networks="inside">inside<' in content


def test_favourites_page_lists_only_my_favourites(solver_client, solver):
    mine = published_version(slug="mine", title="My favourite lab")
    published_version(slug="not-mine", title="Someone else's lab")
    scenario_favorite_set(user=solver, scenario=mine.scenario, on=True)
    scenario_favorite_set(user=UserFactory(), scenario=published_version(slug="theirs").scenario, on=True)
    content = solver_client.get("/scenarios/favorites/").content.decode()
    assert "My favourite lab" in content and "Someone else" not in content and 'data-scenario="theirs"' not in content


def test_favourites_page_needs_login(client):
    response = client.get("/scenarios/favorites/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("machines", [1, 6])
def test_detail_query_count_does_not_grow_with_machines(solver_client, machines, django_assert_max_num_queries):
    published_version(slug=f"machines-{machines}", machines=[{"name": f"m{i}"} for i in range(machines)])
    with django_assert_max_num_queries(12) as captured:
        response = solver_client.get(f"/scenarios/machines-{machines}/")
    assert response.status_code == 200 and response.content.count(b'<td class="font-mono">m') == machines
    # The version with its scenario and user state, its machines, its pivot points.
    tables = ("FROM `scenario_version`", "FROM `machine`", "FROM `network_pivot_points`")
    assert len([q for q in captured.captured_queries if any(t in q["sql"] for t in tables)]) == 3
