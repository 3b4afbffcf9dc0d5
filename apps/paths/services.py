"""State changes of career paths and playlists.

Paths and playlists share their item rules, written once here:
- a public collection holds only published versions (a version archived *after* it was published
  may stay, since progress on its scenario still counts);
- a scenario appears at most once per collection, whichever version;
- ``sort_order`` runs 1..n without gaps; moving an item to a position outside 1..n is refused.
The container row is locked while its items change, so two concurrent adds cannot both pass the
duplicate check.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.paths.models import CareerPath, CareerPathItem, Playlist, PlaylistItem
from apps.scenarios.models import ScenarioType, ScenarioVersion, VersionStatus
from rangex.core.audit import AuditAction, audit_record, full_clean_or_raise, model_update
from rangex.core.errors import NotFound, PermissionDenied, ValidationFailed

Container = CareerPath | Playlist
Item = CareerPathItem | PlaylistItem
EDITABLE_FIELDS = ("title", "description", "is_public", "cover_image")


def _kind(container: Container) -> str:
    return "career_path" if isinstance(container, CareerPath) else "playlist"


_ACTIONS = {
    "career_path": {
        "create": AuditAction.CAREER_PATH_CREATE,
        "update": AuditAction.CAREER_PATH_UPDATE,
        "delete": AuditAction.CAREER_PATH_DELETE,
        "item_add": AuditAction.CAREER_PATH_ITEM_ADD,
        "item_update": AuditAction.CAREER_PATH_ITEM_UPDATE,
        "item_move": AuditAction.CAREER_PATH_ITEM_MOVE,
        "item_remove": AuditAction.CAREER_PATH_ITEM_REMOVE,
    },
    "playlist": {
        "create": AuditAction.PLAYLIST_CREATE,
        "update": AuditAction.PLAYLIST_UPDATE,
        "delete": AuditAction.PLAYLIST_DELETE,
        "item_add": AuditAction.PLAYLIST_ITEM_ADD,
        "item_update": AuditAction.PLAYLIST_ITEM_UPDATE,
        "item_move": AuditAction.PLAYLIST_ITEM_MOVE,
        "item_remove": AuditAction.PLAYLIST_ITEM_REMOVE,
    },
}


def _action(container: Container, operation: str) -> AuditAction:
    return _ACTIONS[_kind(container)][operation]


def _noun(container: Container) -> str:
    return _("path") if isinstance(container, CareerPath) else _("playlist")


def _item_model(container: Container):
    return CareerPathItem if isinstance(container, CareerPath) else PlaylistItem


def _items(container: Container):
    return _item_model(container).objects.filter(**{_kind(container): container}).order_by("sort_order", "id")


def _locked(container: Container) -> Container:
    return type(container).objects.select_for_update().get(pk=container.pk)


def _require_owner(container: Container, actor) -> None:
    is_admin = getattr(actor, "is_platform_admin", False)
    if isinstance(container, CareerPath):
        if not is_admin:
            raise PermissionDenied(_("Only admins curate career paths."))
    elif container.owner_user_id != actor.pk and not is_admin:
        # Another user's playlist does not exist as far as this actor is concerned.
        raise NotFound(_("No such playlist."))


def _was_published(version: ScenarioVersion) -> bool:
    return version.status == VersionStatus.PUBLISHED or (
        version.status == VersionStatus.ARCHIVED and version.published_at is not None
    )


def _check_version(container: Container, version: ScenarioVersion, actor) -> None:
    if not getattr(actor, "is_platform_admin", False) and (
        version.status != VersionStatus.PUBLISHED or version.scenario_type == ScenarioType.EVENT_LAB
    ):
        raise NotFound(_("No such published scenario."))
    if container.is_public and version.status != VersionStatus.PUBLISHED:
        raise ValidationFailed(
            _("Only published scenario versions may be added to a public %(noun)s; %(version)s is %(lower)s.")
            % {"noun": _noun(container), "version": version, "lower": version.get_status_display().lower()},
            fields={"scenario_version": [_("This version is not published.")]},
        )


def _check_duplicate(container: Container, version: ScenarioVersion, exclude_pk=None) -> None:
    clash = _items(container).filter(scenario_version__scenario_id=version.scenario_id)
    if exclude_pk is not None:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        raise ValidationFailed(
            _("%(title)s is already in this %(noun)s.") % {"title": version.title, "noun": _noun(container)},
            fields={"scenario_version": [_("Already in the list.")]},
        )


def _renumber(container: Container, ordered: list[Item] | None = None) -> None:
    ordered = ordered if ordered is not None else list(_items(container))
    for position, item in enumerate(ordered, start=1):
        if item.sort_order != position:
            item.sort_order = position
            item.save(update_fields=["sort_order"])


# --- Containers -------------------------------------------------------------------------------------


def _create(model, *, actor, owner, title: str, description: str = "", is_public: bool = False, cover_image=None):
    container = model(
        title=(title or "").strip(),
        description=description or "",
        is_public=bool(is_public),
        owner_user=owner,
        cover_image=cover_image,
    )
    full_clean_or_raise(container)
    container.save()
    audit_record(actor=actor, action=_action(container, "create"), target=container, details={"public": is_public})
    return container


@transaction.atomic
def career_path_create(*, actor, title: str, description: str = "", is_public: bool = False, cover_image=None):
    """Create an empty career path owned by the admin ``actor``; items are added afterwards."""
    if not getattr(actor, "is_platform_admin", False):
        raise PermissionDenied(_("Only admins curate career paths."))
    return _create(
        CareerPath, actor=actor, owner=actor, title=title, description=description, is_public=is_public,
        cover_image=cover_image,
    )  # fmt: skip


@transaction.atomic
def playlist_create(*, owner, title: str, description: str = "", is_public: bool = False) -> Playlist:
    """Create a playlist for ``owner``; private unless ``is_public``."""
    if not getattr(owner, "is_authenticated", False):
        raise PermissionDenied(_("Sign in to create playlists."))
    return _create(Playlist, actor=owner, owner=owner, title=title, description=description, is_public=is_public)


@transaction.atomic
def playlist_add_version(
    *, owner, version: ScenarioVersion, playlist: Playlist | None = None, title: str = ""
) -> Playlist:
    """Add ``version`` to ``playlist``, or to a new playlist named ``title``: both or neither happen."""
    if playlist is None:
        playlist = playlist_create(owner=owner, title=title)
    collection_item_add(container=playlist, actor=owner, version=version)
    return playlist


@transaction.atomic
def collection_update(*, container: Container, actor, **changes: Any) -> Container:
    """Change a path's or playlist's title, description, visibility or cover.

    Making it public requires every item to be a published version (or one archived after publication).
    """
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationFailed(_("These fields cannot be changed: %(items)s.") % {"items": ", ".join(sorted(unknown))})
    _require_owner(container, actor)
    container = _locked(container)

    def check_public(before: dict[str, Any]) -> None:
        if not container.is_public or before.get("is_public", container.is_public):
            return
        unpublished = [
            i.scenario_version for i in _items(container).select_related("scenario_version")
            if not _was_published(i.scenario_version)
        ]  # fmt: skip
        if unpublished:
            raise ValidationFailed(
                _("A public %(noun)s holds only published scenarios; %(value)s is not published.")
                % {"noun": _noun(container), "value": unpublished[0]},
                fields={"is_public": [_("Remove the unpublished versions first.")]},
            )

    model_update(
        instance=container,
        actor=actor,
        data=changes,
        allowed=EDITABLE_FIELDS,
        action=_action(container, "update"),
        check=check_public,
    )
    return container


@transaction.atomic
def collection_delete(*, container: Container, actor) -> None:
    _require_owner(container, actor)
    audit_record(actor=actor, action=_action(container, "delete"), target=container)
    container.delete()


# --- Items ---------------------------------------------------------------------------------------------


@transaction.atomic
def collection_item_add(*, container: Container, actor, version: ScenarioVersion, position: int | None = None) -> Item:
    """Add ``version`` to a path or playlist, at the end or at ``position`` (1-based)."""
    _require_owner(container, actor)
    container = _locked(container)
    _check_version(container, version, actor)
    _check_duplicate(container, version)
    existing = list(_items(container))
    if position is not None and not (isinstance(position, int) and 1 <= position <= len(existing) + 1):
        raise ValidationFailed(
            _("Position must be between 1 and %(value)s.") % {"value": len(existing) + 1},
            fields={"position": [_("Out of range.")]},
        )
    item = _item_model(container)(**{_kind(container): container}, scenario_version=version)
    item.sort_order = len(existing) + 1
    item.save()
    if position is not None:
        existing.insert(position - 1, item)
        _renumber(container, existing)
    audit_record(
        actor=actor, action=_action(container, "item_add"), target=container,
        details={"scenario_version": str(version.pk), "position": item.sort_order},
    )  # fmt: skip
    return item


@transaction.atomic
def collection_item_save(*, item: Item, actor, version_changed: bool = True) -> Item:
    """Validate and save an item edited in the admin (version or sort order); the caller renumbers.

    An unchanged version is not re-checked, so reordering keeps items whose version was archived.
    """
    container = item.container
    _require_owner(container, actor)
    container = _locked(container)
    version = ScenarioVersion.objects.select_related("scenario").get(pk=item.scenario_version_id)
    is_new = item.pk is None
    if is_new or version_changed:
        _check_version(container, version, actor)
    _check_duplicate(container, version, exclude_pk=item.pk)
    item.save()
    audit_record(
        actor=actor, action=_action(container, "item_add" if is_new else "item_update"), target=container,
        details={"scenario_version": str(version.pk), "sort_order": item.sort_order},
    )  # fmt: skip
    return item


@transaction.atomic
def collection_items_renumber(*, container: Container) -> None:
    """Close gaps in ``sort_order`` (1..n), keeping the current relative order."""
    _renumber(_locked(container))


@transaction.atomic
def collection_item_move(*, item: Item, actor, position) -> Item:
    """Move an item to ``position`` (1-based) and renumber the others."""
    container = item.container
    _require_owner(container, actor)
    container = _locked(container)
    items = list(_items(container))
    if isinstance(position, bool) or not isinstance(position, int) or not 1 <= position <= len(items):
        raise ValidationFailed(
            _("Position must be a whole number between 1 and %(count)s.") % {"count": len(items)},
            fields={"position": [_("Out of range.")]},
        )
    current = next((i for i in items if i.pk == item.pk), None)
    if current is None:
        raise NotFound(_("No such item."))
    items.remove(current)
    items.insert(position - 1, current)
    _renumber(container, items)
    audit_record(
        actor=actor, action=_action(container, "item_move"), target=container,
        details={"item": current.pk, "position": position},
    )  # fmt: skip
    return current


@transaction.atomic
def collection_item_remove(*, item: Item, actor) -> None:
    container = item.container
    _require_owner(container, actor)
    container = _locked(container)
    audit_record(
        actor=actor, action=_action(container, "item_remove"), target=container,
        details={"scenario_version": str(item.scenario_version_id)},
    )  # fmt: skip
    item.delete()
    _renumber(container)


# --- Completion ------------------------------------------------------------------------------------------


def paths_on_session_completed(*, session_id) -> list[CareerPath]:
    """Completion hook: tell the user about each public path this session finished, then evaluate badges.

    A path counts as *newly* finished when it is complete now and this session is the user's first
    completion of its scenario (a repeat completion finishes nothing new).
    """
    from apps.environments.models import EnvironmentSession
    from apps.paths.selectors import career_path_progress_many
    from rangex.core.models import NotificationType
    from rangex.core.notifications import notification_send

    session = (
        EnvironmentSession.objects.select_related("user", "scenario_version")
        .filter(pk=session_id, is_test=False, completed_at__isnull=False)
        .first()
    )
    if session is None:
        return []
    user, scenario_id = session.user, session.scenario_version.scenario_id
    earlier = EnvironmentSession.objects.filter(
        user=user, is_test=False, completed_at__lt=session.completed_at, scenario_version__scenario_id=scenario_id
    )
    if earlier.exists():
        return []
    # Private paths are drafts that solvers cannot open, so nobody is told about finishing one.
    paths = CareerPath.objects.filter(is_public=True, items__scenario_version__scenario_id=scenario_id).distinct()
    finished = [p for p, progress in career_path_progress_many(user=user, paths=paths) if progress.is_complete]
    for path in finished:
        with transaction.atomic():
            audit_record(
                actor=None, action=AuditAction.CAREER_PATH_COMPLETE, target=path, details={"user": str(user.pk)}
            )
            notification_send(
                user=user,
                type=NotificationType.PATH,
                title=format_lazy(gettext_lazy("Path completed: {title}"), title=path.title),
                body=format_lazy(gettext_lazy("You completed every scenario of {title}."), title=path.title),
                link=path.get_absolute_url(),
            )
    return finished
