"""Apply ``AccountSpec`` logins to a machine's /etc/passwd, /etc/shadow and /etc/group texts.

Pure text in, text out, shared by every backend that writes files into a machine before it
starts. Passwords become SHA-512 crypt hashes here; the plaintext goes nowhere else.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from passlib.hash import sha512_crypt

from apps.runtime.base import AccountSpec, RuntimeFailure

# 5000 rounds is the glibc default that shadow-utils writes; a lab's passwords are published hints,
# and a launch may hash one per machine.
CRYPT_ROUNDS = 5000
FIRST_UID = 1000
LAST_UID = 59999
SHADOW_GROUP = "shadow"


def hash_password(password: str) -> str:
    """Return the crypt(3) SHA-512 hash of ``password``; "!" (locked) for an empty one."""
    if not password:
        return "!"
    return sha512_crypt.using(rounds=CRYPT_ROUNDS).hash(password)


@dataclass
class AccountFiles:
    """The new texts of the three files, and the home folders to create: (path, uid, gid)."""

    passwd: str
    shadow: str
    group: str
    homes: list[tuple[str, int, int]] = field(default_factory=list)
    users: dict[str, tuple[int, int]] = field(default_factory=dict)


def _rows(text: str, width: int) -> list[list[str]]:
    rows = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split(":")
        rows.append(parts + [""] * (width - len(parts)))
    return rows


def _text(rows: list[list[str]]) -> str:
    return "".join(":".join(row) + "\n" for row in rows)


def _next_free(used: set[int], wanted: int | None = None) -> int:
    if wanted is not None and wanted not in used:
        return wanted
    for number in range(FIRST_UID, LAST_UID + 1):
        if number not in used:
            return number
    raise RuntimeFailure("No free uid or gid is left in the machine.", permanent=True)


def apply_accounts(*, passwd: str, shadow: str, group: str, accounts: list[AccountSpec], machine: str) -> AccountFiles:
    """Return the files with every account created or updated (see ``AccountSpec``)."""
    users = _rows(passwd, 7)
    shadows = _rows(shadow, 9)
    groups = _rows(group, 4)
    today = str(int(time.time() // 86400))
    homes: list[tuple[str, int, int]] = []

    def number(value: str, what: str) -> int:
        if not value.isdigit():
            raise RuntimeFailure(f"Machine {machine} has a malformed {what} entry.", permanent=True)
        return int(value)

    for account in accounts:
        user = next((row for row in users if row[0] == account.username), None)
        if user is None:
            used_uids = {number(row[2], "/etc/passwd") for row in users}
            if account.uid is not None and account.uid in used_uids:
                raise RuntimeFailure(
                    f"Machine {machine}: uid {account.uid} for {account.username} is taken.", permanent=True
                )
            uid = _next_free(used_uids, account.uid)
            own = next((row for row in groups if row[0] == account.username), None)
            if own is None:
                gid = _next_free({number(row[2], "/etc/group") for row in groups}, uid)
                groups.append([account.username, "x", str(gid), ""])
            else:
                gid = number(own[2], "/etc/group")
            home = account.home or f"/home/{account.username}"
            user = [account.username, "x", str(uid), str(gid), "", home, account.shell or "/bin/sh"]
            users.append(user)
            homes.append((home, uid, gid))
        else:
            user[1] = "x"
            if account.shell:
                user[6] = account.shell
            if account.home and account.home != user[5]:
                user[5] = account.home
                homes.append((account.home, number(user[2], "/etc/passwd"), number(user[3], "/etc/passwd")))
        entry = next((row for row in shadows if row[0] == account.username), None)
        if entry is None:
            entry = [account.username, "", today, "0", "99999", "7", "", "", ""]
            shadows.append(entry)
        entry[1] = hash_password(account.password)
        entry[2] = today
        for name in account.groups:
            row = next((r for r in groups if r[0] == name), None)
            if row is None:
                row = [name, "x", str(_next_free({number(r[2], "/etc/group") for r in groups})), ""]
                groups.append(row)
            members = [m for m in row[3].split(",") if m]
            if account.username not in members:
                row[3] = ",".join([*members, account.username])
    return AccountFiles(
        passwd=_text(users),
        shadow=_text(shadows),
        group=_text(groups),
        homes=homes,
        users={row[0]: (int(row[2]), int(row[3])) for row in users if row[2].isdigit() and row[3].isdigit()},
    )


def read_users(passwd: str) -> dict[str, tuple[int, int]]:
    """Return user name -> (uid, gid) from an /etc/passwd text."""
    return {row[0]: (int(row[2]), int(row[3])) for row in _rows(passwd, 7) if row[2].isdigit() and row[3].isdigit()}


def resolve_owner(owner: str, users: dict[str, tuple[int, int]], machine: str) -> tuple[int, int]:
    """Return (uid, gid) for a FileSpec owner ("user", "user:gid", "uid", "uid:gid")."""
    if owner in ("", "root", "0"):
        return 0, 0
    user, _, group = owner.partition(":")
    if user.isdigit():
        uid, gid = int(user), int(user)
    elif user in users:
        uid, gid = users[user]
    else:
        raise RuntimeFailure(f"Machine {machine} has no user {user!r} to own a file.", permanent=True)
    if group.isdigit():
        gid = int(group)
    return uid, gid


def shadow_group_id(group: str) -> int | None:
    """Return the gid of the "shadow" group in an /etc/group text, if it has one."""
    for row in _rows(group, 4):
        if row[0] == SHADOW_GROUP and row[2].isdigit():
            return int(row[2])
    return None
