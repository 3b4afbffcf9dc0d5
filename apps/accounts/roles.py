"""Roles are independent flags on the user, mirrored into Django groups.

The groups carry model permissions so the admin shows each role only what it may touch.
Object-level limits (a creator sees only their own scenarios) live in selectors and in the
admin's querysets. Each app adds its own entry here when it gains models.
"""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission

SOLVER, CREATOR, ADMIN = "Solver", "Creator", "Admin"
ROLE_FLAGS = {SOLVER: "role_solver", CREATOR: "role_creator", ADMIN: "role_admin"}

ALL_ACTIONS = {"add", "change", "delete", "view"}

# app_label -> {model name or "*": actions}
CREATOR_PERMISSIONS: dict[str, dict[str, set[str]]] = {
    "scenarios": {
        "*": ALL_ACTIONS,
        "tool": {"view"},
        "scenariolimit": {"view"},
        "scenarioaccessgrant": set(),
        "scenariorating": set(),
        "userfavorite": set(),
        "scenarioversionadmintest": {"view"},
        # Validation rules are content a creator edits (test results are shown only to admins).
    },
    "images": {
        "dockerimage": {"view"},
        "imagevariant": {"view"},
        "platformimage": {"view"},
        "registrycredential": {"view", "add", "change"},
        "imagepipelinestage": {"view"},
    },
    "accounts": {"creatorpreferences": {"view", "change"}},
}

# Admins get every permission except writing audit rows, which no one may edit.
ADMIN_EXCLUDED = {("core", "add_auditlog"), ("core", "change_auditlog"), ("core", "delete_auditlog")}


def _creator_permissions():
    perms = Permission.objects.select_related("content_type").filter(
        content_type__app_label__in=CREATOR_PERMISSIONS.keys()
    )
    chosen = []
    for perm in perms:
        rules = CREATOR_PERMISSIONS[perm.content_type.app_label]
        action = perm.codename.split("_", 1)[0]
        actions = rules.get(perm.content_type.model, rules.get("*", set()))
        if action in actions:
            chosen.append(perm)
    return chosen


def _admin_permissions():
    return [
        perm
        for perm in Permission.objects.select_related("content_type")
        if (perm.content_type.app_label, perm.codename) not in ADMIN_EXCLUDED
    ]


def sync_role_groups() -> None:
    """Create the role groups and give them exactly their declared permissions."""
    Group.objects.get_or_create(name=SOLVER)[0].permissions.set([])
    Group.objects.get_or_create(name=CREATOR)[0].permissions.set(_creator_permissions())
    Group.objects.get_or_create(name=ADMIN)[0].permissions.set(_admin_permissions())


def sync_role_groups_after_migrate(sender, app_config=None, **kwargs) -> None:
    # post_migrate is sent app by app; permissions of later apps exist only after the last one.
    from django.apps import apps

    if app_config is not None and app_config.label == list(apps.get_app_configs())[-1].label:
        sync_role_groups()


def user_sync_groups(user) -> None:
    wanted = {name for name, flag in ROLE_FLAGS.items() if getattr(user, flag)}
    groups = {g.name: g for g in Group.objects.filter(name__in=ROLE_FLAGS)}
    missing = [name for name in ROLE_FLAGS if name not in groups]
    if missing:
        sync_role_groups()
        groups = {g.name: g for g in Group.objects.filter(name__in=ROLE_FLAGS)}
    current = set(user.groups.filter(name__in=ROLE_FLAGS).values_list("name", flat=True))
    for name in wanted - current:
        user.groups.add(groups[name])
    for name in current - wanted:
        user.groups.remove(groups[name])
