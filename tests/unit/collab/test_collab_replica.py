"""Replica: own ops show at once, stay pending until echoed, and hold their cells."""

from __future__ import annotations

from typing import Any

import pytest
from collab_support import small_state, text_of

from asciihub.errors import InvalidInput
from asciihub.services.collab import EditState, Effect, LogEntry, Replica


class Room:
    """A server state with its log of effects, and replicas reading it."""

    def __init__(self) -> None:
        self.server = small_state()
        self.effects: list[Effect] = []

    def replica(self, client_id: str, user_id: str) -> Replica:
        return Replica(self.server.snapshot(), client_id=client_id, user_id=user_id)

    def send(self, replica: Replica, sent: tuple[int, dict[str, Any]]) -> Effect:
        op_id, op = sent
        entry = LogEntry(self.server.seq + 1, replica.user_id, replica.client_id, op_id, op)
        effect = self.server.apply(entry)
        self.effects.append(effect)
        return effect

    def catch_up(self, replica: Replica) -> None:
        for effect in self.effects[replica.seq :]:
            replica.receive(effect)


def _stroke(frame: str, *cells: tuple[int, int, str]) -> dict[str, Any]:
    return {
        "kind": "stroke",
        "frame": frame,
        "cells": [[r, c, ch, None, None] for r, c, ch in cells],
    }


def test_own_op_shows_at_once_and_is_pending_until_echoed() -> None:
    room = Room()
    alice = room.replica("a", "alice")
    sent = alice.local(_stroke("f0", (0, 0, "A")))
    assert sent[0] == 1
    assert text_of(alice.view(), "f0").startswith("Abcde")
    assert text_of(alice.confirmed(), "f0").startswith("abcde")
    assert alice.pending() == [sent]
    room.send(alice, sent)
    room.catch_up(alice)
    assert alice.pending() == []
    assert alice.confirmed_digest() == room.server.digest() == alice.view().digest()


def test_remote_values_wait_for_a_pending_cell_then_server_order_decides() -> None:
    room = Room()
    alice, bob = room.replica("a", "alice"), room.replica("b", "bob")
    mine = alice.local(_stroke("f0", (0, 0, "A"), (0, 1, "A")))
    theirs = bob.local(_stroke("f0", (0, 1, "B"), (0, 2, "B")))
    room.send(alice, mine)  # the server orders alice first, then bob
    room.send(bob, theirs)
    alice.receive(room.effects[0])
    # bob's effect has not arrived; alice still sees her own writes
    assert text_of(alice.view(), "f0").startswith("AAcde")
    bob.receive(room.effects[0])
    # bob's own write to (0, 1) is pending, so alice's value is held back there
    assert text_of(bob.view(), "f0").startswith("ABBde")
    bob.receive(room.effects[1])
    alice.receive(room.effects[1])
    for replica in (alice, bob):
        assert text_of(replica.view(), "f0").startswith("ABBde")
        assert replica.view().digest() == room.server.digest()


def test_a_held_cell_ignores_remote_values_while_pending() -> None:
    room = Room()
    alice, bob = room.replica("a", "alice"), room.replica("b", "bob")
    room.send(bob, bob.local(_stroke("f0", (0, 0, "B"))))
    mine = alice.local(_stroke("f0", (0, 0, "A")))
    alice.receive(room.effects[0])  # bob's B came first in server order
    assert text_of(alice.view(), "f0").startswith("Abcde")  # no flicker to B
    assert text_of(alice.confirmed(), "f0").startswith("Bbcde")
    room.send(alice, mine)
    alice.receive(room.effects[1])
    assert text_of(alice.view(), "f0").startswith("Abcde")


def test_a_noop_echo_takes_the_optimistic_change_back() -> None:
    room = Room()
    alice, bob = room.replica("a", "alice"), room.replica("b", "bob")
    room.send(bob, bob.local({"kind": "frame_update", "id": "f1", "deleted": True}))
    add = alice.local(
        {"kind": "frame_add", "id": "f1", "key": "a5", "duration_ms": 9, "text": "zz"}
    )
    draw = alice.local(_stroke("f1", (0, 0, "Q")))
    assert [f.id for f in alice.view().frames()] == ["f0", "f1"]
    room.send(alice, add)
    room.send(alice, draw)
    room.catch_up(alice)
    assert [e.reason for e in room.effects[1:]] == ["frame_exists", "frame_deleted"]
    assert alice.pending() == []
    assert [f.id for f in alice.view().frames()] == ["f0"]
    assert alice.view().digest() == room.server.digest()


def test_a_predicted_new_frame_is_dropped_when_the_server_refuses_it() -> None:
    room = Room()
    alice, bob = room.replica("a", "alice"), room.replica("b", "bob")
    mine = alice.local(
        {"kind": "frame_add", "id": "mine", "key": "a3", "duration_ms": 1, "text": "x"}
    )
    for n in range(2):  # bob fills the frame limit (4) first
        room.send(
            bob,
            bob.local({"kind": "frame_add", "id": f"s{n}", "key": f"a{5 + n}", "duration_ms": 1}),
        )
    room.send(alice, mine)
    alice.receive(room.effects[0])
    alice.receive(room.effects[1])
    assert len(alice.view().frames()) == 5  # bob's two frames and the predicted one
    register = alice.view().cell("mine", 0, 0)
    assert register is not None and register.ch == "x"
    alice.receive(room.effects[2])
    assert room.effects[2].reason == "too_many_frames"
    assert alice.pending() == []
    assert alice.view().cell("mine", 0, 0) is None
    assert alice.view().digest() == room.server.digest()


def test_an_echo_settles_older_pending_ops_too() -> None:
    room = Room()
    alice = room.replica("a", "alice")
    alice.local(_stroke("f0", (0, 0, "1")))  # never reaches the server
    later = alice.local(_stroke("f0", (0, 1, "2")))
    room.send(alice, later)
    room.catch_up(alice)
    # The server de-duplicates by increasing op id, so op 1 can never apply now.
    assert alice.pending() == []
    assert text_of(alice.view(), "f0").startswith("a2cde")
    assert alice.view().digest() == room.server.digest()


def test_reject_undo_and_gaps() -> None:
    room = Room()
    alice = room.replica("a", "alice")
    sent = alice.local(_stroke("f0", (0, 0, "A")))
    alice.reject(sent[0])
    assert alice.pending() == []
    assert text_of(alice.view(), "f0").startswith("abcde")
    room.send(alice, alice.local(_stroke("f0", (1, 0, "A"))))
    undo = alice.local({"kind": "undo"})
    assert text_of(alice.view(), "f1") == text_of(alice.confirmed(), "f1")
    room.send(alice, undo)  # undo is not predicted; its effect shows on arrival
    room.catch_up(alice)
    assert text_of(alice.view(), "f0") == "abcde\nfghij\nklmno"
    with pytest.raises(ValueError, match="resync"):
        alice.receive(Effect(seq=alice.seq + 2, user_id="x", client_id="y", op_id=1, kind="noop"))
    alice.receive(room.effects[0])  # an old effect again is ignored
    assert alice.confirmed_digest() == room.server.digest()
    with pytest.raises(InvalidInput):
        alice.local({"kind": "paint"})


def test_resync_keeps_only_what_the_snapshot_lacks() -> None:
    room = Room()
    alice = room.replica("a", "alice")
    delivered = alice.local(_stroke("f0", (0, 0, "1")))
    lost = alice.local(_stroke("f0", (0, 1, "2")))
    room.send(alice, delivered)  # the socket drops before the echo and before `lost`
    alice.resync(room.server.snapshot())
    assert alice.pending() == [lost]
    assert text_of(alice.view(), "f0").startswith("12cde")
    assert alice.confirmed_digest() == room.server.digest()
    room.send(alice, alice.pending()[0])
    room.catch_up(alice)
    assert alice.view().digest() == room.server.digest()
    # A new replica of the same client id continues its op ids.
    again = Replica(room.server.snapshot(), client_id="a", user_id="alice")
    assert again.local({"kind": "undo"})[0] == 3


def test_confirmed_digest_matches_a_server_built_from_the_same_snapshot() -> None:
    room = Room()
    bob = room.replica("b", "bob")
    room.send(
        bob,
        bob.local({"kind": "frame_add", "id": "n", "key": "a2", "duration_ms": 5, "copy_of": "f1"}),
    )
    room.send(bob, bob.local({"kind": "resize", "width": 2, "height": 2}))
    room.catch_up(bob)
    assert bob.confirmed_digest() == room.server.digest()
    assert EditState.from_snapshot(room.server.snapshot()).digest() == bob.confirmed_digest()
    assert bob.view().to_document(fps=10) == room.server.to_document(fps=10)


def test_a_refused_new_frame_leaves_the_view_once_later_ops_on_it_settle() -> None:
    room = Room()
    alice, bob = room.replica("a", "alice"), room.replica("b", "bob")
    add = alice.local({"kind": "frame_add", "id": "mine", "key": "a3", "duration_ms": 1})
    draw = alice.local(_stroke("mine", (0, 0, "Q")))
    for n in range(2):  # bob fills the frame limit (4) first
        room.send(
            bob,
            bob.local({"kind": "frame_add", "id": f"s{n}", "key": f"a{5 + n}", "duration_ms": 1}),
        )
    room.send(alice, add)
    room.send(alice, draw)
    for effect in room.effects[:3]:
        alice.receive(effect)
    # the add was refused, but the stroke on the frame is still pending: keep showing it
    assert alice.view().cell("mine", 0, 0) is not None
    alice.receive(room.effects[3])
    assert [e.reason for e in room.effects[2:]] == ["too_many_frames", "unknown_frame"]
    assert alice.view().cell("mine", 0, 0) is None
    assert alice.view().digest() == room.server.digest()
