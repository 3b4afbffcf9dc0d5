import pytest

from apps.accounts.factories import AdminFactory, UserFactory
from apps.paths import selectors, services
from apps.paths.factories import (
    answer_all,
    career_path,
    completed_session_row,
    playlist,
    running_session,
)
from apps.scenarios import services as scenario_services
from apps.scenarios.factories import draft_version, passing_test_run, published_version
from rangex.core.errors import NotFound, PermissionDenied, ValidationFailed
from rangex.core.models import AuditLog, Notification

pytestmark = pytest.mark.django_db


def _progress(path, user):
    path = selectors.career_path_get_for_user(user=user, pk=path.pk)
    return selectors.progress_for_many(user=user, containers=[path])[path.pk]


def test_progress_counts_completed_items_and_names_the_next_one():
    v1, v2, v3 = published_version(), published_version(), published_version()
    path = career_path(versions=[v1, v2, v3])
    user = UserFactory()
    completed_session_row(user=user, version=v2)
    completed_session_row(user=user, version=v3, completed=False)

    progress = _progress(path, user)

    assert [i.completed for i in progress.items] == [False, True, False]
    assert progress.percent == 33
    assert progress.next_item.scenario_version == v1
    assert not progress.is_complete


def test_progress_survives_archiving_the_item_version_for_a_newer_one():
    admin = AdminFactory()
    old = published_version(admin=admin)
    path = career_path(admin=admin, versions=[old])
    user = UserFactory()
    completed_session_row(user=user, version=old)
    newer = scenario_services.scenario_version_new(source=old, actor=old.scenario.created_by_user)
    newer = scenario_services.scenario_version_submit(version=newer, actor=old.scenario.created_by_user)
    passing_test_run(newer)
    newer = scenario_services.scenario_version_approve(version=newer, actor=admin)
    scenario_services.scenario_version_publish(version=newer, actor=admin)
    old.refresh_from_db()
    assert old.status == "ARCHIVED"

    assert _progress(path, user).is_complete
    # A completion of the newer version counts for an item that still points at the old one.
    other = UserFactory()
    completed_session_row(user=other, version=newer)
    assert _progress(path, other).is_complete
    # Reordering keeps the archived item on the public path.
    item = path.items.get()
    services.collection_item_save(item=item, actor=admin, version_changed=False)


def test_public_path_refuses_an_unpublished_version():
    admin = AdminFactory()
    path = career_path(admin=admin, versions=[published_version()])
    with pytest.raises(ValidationFailed, match="Only published"):
        services.collection_item_add(container=path, actor=admin, version=draft_version())
    assert path.items.count() == 1


def test_private_path_may_hold_a_draft_but_cannot_go_public_with_it():
    admin = AdminFactory()
    path = career_path(admin=admin, versions=[draft_version()], is_public=False)
    with pytest.raises(ValidationFailed, match="holds only published"):
        services.collection_update(container=path, actor=admin, is_public=True)
    path.refresh_from_db()
    assert not path.is_public


def test_duplicate_scenario_is_refused_whatever_the_version():
    user = UserFactory()
    v = published_version()
    pl = playlist(owner=user, versions=[v])
    with pytest.raises(ValidationFailed, match="already in this playlist"):
        services.collection_item_add(container=pl, actor=user, version=v)
    assert pl.items.count() == 1


def test_move_reorders_and_refuses_positions_outside_the_list():
    user = UserFactory()
    a, b, c = published_version(), published_version(), published_version()
    pl = playlist(owner=user, versions=[a, b, c])
    item_c = pl.items.get(scenario_version=c)
    services.collection_item_move(item=item_c, actor=user, position=1)
    assert [i.scenario_version for i in pl.items.all()] == [c, a, b]
    assert [i.sort_order for i in pl.items.all()] == [1, 2, 3]
    for bad in (0, 4, -1, "2", True, None):
        with pytest.raises(ValidationFailed, match="Position"):
            services.collection_item_move(item=item_c, actor=user, position=bad)
    services.collection_item_remove(item=pl.items.get(scenario_version=a), actor=user)
    assert [i.sort_order for i in pl.items.all()] == [1, 2]


def test_another_users_private_playlist_is_not_found():
    owner, other = UserFactory(), UserFactory()
    pl = playlist(owner=owner, versions=[published_version()])
    with pytest.raises(NotFound):
        selectors.playlist_get_for_user(user=other, pk=pl.pk)
    with pytest.raises(NotFound):
        services.collection_item_add(container=pl, actor=other, version=published_version())
    services.collection_update(container=pl, actor=owner, is_public=True)
    assert selectors.playlist_get_for_user(user=other, pk=pl.pk) == pl
    with pytest.raises(NotFound):
        selectors.playlist_get_owned(user=other, pk=pl.pk)


def test_solvers_cannot_curate_paths_or_add_unpublished_versions_to_playlists():
    user = UserFactory()
    with pytest.raises(PermissionDenied):
        services.career_path_create(actor=user, title="Mine")
    pl = playlist(owner=user)
    with pytest.raises(NotFound):
        services.collection_item_add(container=pl, actor=user, version=draft_version())


def test_private_path_is_hidden_from_solvers():
    path = career_path(versions=[published_version()], is_public=False)
    with pytest.raises(NotFound):
        selectors.career_path_get_for_user(user=UserFactory(), pk=path.pk)


def test_completing_the_last_scenario_notifies_path_completion(django_capture_on_commit_callbacks):
    v1, v2 = published_version(), published_version()
    path = career_path(versions=[v1, v2])
    user = UserFactory()
    completed_session_row(user=user, version=v1)
    session = running_session(user=user, version=v2)
    with django_capture_on_commit_callbacks(execute=True):
        session = answer_all(session=session)
    assert session.completed_at is not None
    assert Notification.objects.filter(user=user, title=f"Path completed: {path.title}").count() == 1
    assert AuditLog.objects.filter(action_type="career_path.complete", target_id=str(path.pk)).count() == 1


def test_playlist_changes_are_audited():
    user = UserFactory()
    v = published_version()
    pl = playlist(owner=user, versions=[v], is_public=True)
    services.collection_item_remove(item=pl.items.get(), actor=user)
    actions = list(AuditLog.objects.filter(target_id=str(pl.pk)).values_list("action_type", flat=True))
    assert sorted(actions) == ["playlist.create", "playlist.item_add", "playlist.item_remove", "playlist.update"]
