"""A reload finds the same shell: shells outlive their socket for a grace period, one per tab (issue 17)."""

from __future__ import annotations

import json

import pytest

from apps.environments import shells
from apps.environments.tests.test_terminal import communicator, read_until, running  # noqa: F401

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("channel_layer")]


async def _open(session, cookie, tab: str):
    comm = communicator(session, cookie, query=f"&tab={tab}")
    connected, _ = await comm.connect(timeout=10)
    assert connected
    return comm


async def _type(comm, text: str) -> None:
    await comm.send_to(text_data=json.dumps({"type": "input", "data": text}))


async def test_a_dropped_socket_comes_back_to_the_same_shell_with_its_scrollback(running):  # noqa: F811
    session, cookie = running
    try:
        first = await _open(session, cookie, "a")
        await _type(first, "MARK=kept42; echo before-$MARK\n")
        await read_until(first, b"before-kept42")
        # 1001 is what a browser sends when the page reloads.
        await first.disconnect(code=1001)
        assert (str(session.pk), "attacker", "a", session.user_id) in shells.shells_open()

        again = await _open(session, cookie, "a")
        attached = await again.receive_output(timeout=10)
        assert attached["type"] == "websocket.send" and json.loads(attached["text"]) == {
            "type": "attached",
            "kept": True,
        }
        await read_until(again, b"before-kept42")
        await _type(again, "echo after-$MARK\n")
        await read_until(again, b"after-kept42")

        other = await _open(session, cookie, "b")
        await _type(other, "echo other-${MARK:-unset}\n")
        await read_until(other, b"other-unset")
        await other.disconnect(code=1000)
        await again.disconnect(code=1000)
        assert shells.shells_open() == []
    finally:
        await shells.shells_close_for_session(str(session.pk))


async def test_the_same_tab_opened_elsewhere_takes_the_shell_over(running):  # noqa: F811
    session, cookie = running
    try:
        first = await _open(session, cookie, "t")
        await _type(first, "echo ready\n")
        await read_until(first, b"ready")
        second = await _open(session, cookie, "t")
        output = bytearray()
        while True:
            message = await first.receive_output(timeout=10)
            if message["type"] == "websocket.close":
                assert message["code"] == 4001
                break
            output.extend(message.get("bytes") or b"")
        assert b"now open in another window" in output
        await _type(second, "echo still-here\n")
        await read_until(second, b"still-here")
        await second.disconnect(code=1000)
    finally:
        await shells.shells_close_for_session(str(session.pk))


async def test_a_machine_holds_a_bounded_number_of_shells(running):  # noqa: F811
    session, cookie = running
    try:
        comms = [await _open(session, cookie, f"s{i}") for i in range(shells.MAX_SHELLS_PER_MACHINE)]
        extra = await _open(session, cookie, "one-too-many")
        seen = bytearray()
        while True:
            message = await extra.receive_output(timeout=10)
            if message["type"] == "websocket.close":
                assert message["code"] == 4500
                break
            seen.extend(message.get("bytes") or (message.get("text") or "").encode())
        assert b"At most 4 shells per machine" in seen
        for comm in comms:
            await comm.disconnect(code=1000)
    finally:
        await shells.shells_close_for_session(str(session.pk))
