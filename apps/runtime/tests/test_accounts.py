"""Accounts as text: what /etc/passwd, /etc/shadow and /etc/group become for a list of AccountSpec."""

from __future__ import annotations

import pytest
from passlib.hash import sha512_crypt

from apps.runtime import AccountSpec, RuntimeFailure
from apps.runtime.accounts import apply_accounts, hash_password, resolve_owner

PASSWD = "root:x:0:0:root:/root:/bin/sh\nplayer:x:1000:1000::/home/player:/bin/ash\n"
GROUP = "root:x:0:\nplayer:x:1000:\n"


def _apply(*accounts, passwd=PASSWD, shadow="", group=GROUP):
    return apply_accounts(passwd=passwd, shadow=shadow, group=group, accounts=list(accounts), machine="victim")


def _table(text: str) -> dict[str, list[str]]:
    return {line.split(":")[0]: line.split(":") for line in text.splitlines()}


def test_an_existing_user_keeps_its_ids_home_and_shell_and_gets_the_password():
    result = _apply(AccountSpec("player", "pivot-demo"))
    assert _table(result.passwd)["player"] == ["player", "x", "1000", "1000", "", "/home/player", "/bin/ash"]
    stored = _table(result.shadow)["player"][1]
    assert stored.startswith("$6$") and sha512_crypt.verify("pivot-demo", stored)
    assert result.homes == []


def test_a_missing_user_is_created_with_the_next_free_uid_a_group_and_a_home():
    bob = AccountSpec("bob", "pw", shell="/bin/bash")  # noqa: S604 (a login shell, not a subprocess)
    result = _apply(AccountSpec("alice", "pw"), bob)
    users = _table(result.passwd)
    assert users["alice"] == ["alice", "x", "1001", "1001", "", "/home/alice", "/bin/sh"]
    assert users["bob"][2:4] == ["1002", "1002"] and users["bob"][6] == "/bin/bash"
    assert _table(result.group)["alice"] == ["alice", "x", "1001", ""]
    assert result.homes == [("/home/alice", 1001, 1001), ("/home/bob", 1002, 1002)]


def test_a_chosen_uid_supplementary_groups_and_a_changed_password():
    shadow = "player:$6$old$hash:19000:0:99999:7:::\n"
    result = _apply(
        AccountSpec("player", "new-pass"),
        AccountSpec("ops", "pw", uid=1500, home="/srv/ops", groups=("wheel", "player")),
        shadow=shadow,
    )
    assert _table(result.passwd)["ops"][2:6] == ["1500", "1500", "", "/srv/ops"]
    groups = _table(result.group)
    assert groups["wheel"][3] == "ops" and groups["player"][3] == "ops"
    assert sha512_crypt.verify("new-pass", _table(result.shadow)["player"][1])
    assert result.shadow.count("player:") == 1


def test_an_empty_password_locks_the_account():
    assert _table(_apply(AccountSpec("player", "")).shadow)["player"][1] == "!"
    assert hash_password("") == "!"


def test_a_taken_uid_is_refused():
    with pytest.raises(RuntimeFailure) as excinfo:
        _apply(AccountSpec("alice", "pw", uid=1000))
    assert excinfo.value.permanent and "uid 1000" in excinfo.value.message


def test_the_plaintext_is_nowhere_in_the_files():
    result = _apply(AccountSpec("player", "pivot-demo"), AccountSpec("alice", "pivot-demo"))
    assert "pivot-demo" not in result.passwd + result.shadow + result.group


def test_owners_resolve_by_name_or_number():
    users = {"player": (1000, 1000)}
    assert resolve_owner("root", users, "m") == (0, 0)
    assert resolve_owner("player", users, "m") == (1000, 1000)
    assert resolve_owner("player:50", users, "m") == (1000, 50)
    assert resolve_owner("33", users, "m") == (33, 33)
    with pytest.raises(RuntimeFailure):
        resolve_owner("nobody-here", users, "m")
