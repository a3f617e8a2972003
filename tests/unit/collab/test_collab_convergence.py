"""Property tests: replicas and servers fed one order agree byte for byte."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from collab_support import Log, ops_for, small_state
from hypothesis import given, settings
from hypothesis import strategies as st

from asciihub.services.collab import EditState, Effect, LogEntry, Replica

USERS = ["u0", "u1", "u0"]  # the third replica is a second tab of u0


@dataclass
class Client:
    """A replica with its outgoing queue (FIFO, like one socket) and read position."""

    replica: Replica
    outbox: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    received: int = 0


def _receive_one(client: Client, effects: list[Effect], digests: list[str]) -> None:
    effect = effects[client.received]
    # Effects travel as JSON, like on the socket.
    client.replica.receive(Effect.from_json(json.loads(json.dumps(effect.to_json()))))
    client.received += 1
    assert client.replica.confirmed_digest() == digests[client.received]
    if not client.replica.pending():
        assert client.replica.view().digest() == client.replica.confirmed_digest()


def _step(
    data: Any,
    server: EditState,
    clients: list[Client],
    log: list[LogEntry],
    effects: list[Effect],
    digests: list[str],
) -> None:
    index = data.draw(st.integers(0, len(clients) - 1))
    client = clients[index]
    action = data.draw(
        st.sampled_from(["local"] * 4 + ["deliver"] * 3 + ["receive"] * 3 + ["reconnect", "resend"])
    )
    if action == "local":
        op = data.draw(ops_for(client.replica.view(), tag=f"n{index}-"))
        client.outbox.append(client.replica.local(op))
    elif action == "deliver" and client.outbox:
        op_id, op = client.outbox.pop(0)
        replica = client.replica
        entry = LogEntry(server.seq + 1, replica.user_id, replica.client_id, op_id, op)
        log.append(entry)
        effects.append(server.apply(entry))
        digests.append(server.digest())
    elif action == "receive" and client.received < len(effects):
        _receive_one(client, effects, digests)
    elif action == "reconnect":
        # What was in flight is lost; the client reloads a snapshot and resends.
        client.replica.resync(server.snapshot())
        client.received = server.seq
        client.outbox = client.replica.pending()
        assert client.replica.confirmed_digest() == server.digest()
    elif action == "resend":
        client.outbox.extend(client.replica.pending())


@settings(max_examples=40)
@given(st.data())
def test_replicas_converge_with_the_server(data: Any) -> None:
    server = small_state()
    start = server.snapshot()
    clients = [
        Client(Replica(start, client_id=f"c{i}", user_id=user)) for i, user in enumerate(USERS)
    ]
    log: list[LogEntry] = []
    effects: list[Effect] = []
    digests = [server.digest()]
    for _ in range(data.draw(st.integers(1, 50))):
        _step(data, server, clients, log, effects, digests)
    # Drain: deliver everything still queued, then every replica catches up.
    for client in clients:
        while client.outbox:
            op_id, op = client.outbox.pop(0)
            entry = LogEntry(
                server.seq + 1, client.replica.user_id, client.replica.client_id, op_id, op
            )
            log.append(entry)
            effects.append(server.apply(entry))
            digests.append(server.digest())
    for client in clients:
        while client.received < len(effects):
            _receive_one(client, effects, digests)
    for client in clients:
        assert client.replica.pending() == []
        assert client.replica.confirmed_digest() == server.digest()
        assert client.replica.view().digest() == server.digest()
        assert client.replica.view().to_document(fps=10) == server.to_document(fps=10)
    # Another holder replaying the same log gets the very same state.
    again = EditState.from_snapshot(start)
    for entry in log:
        again.apply(LogEntry.from_json(json.loads(json.dumps(entry.to_json()))))
    assert again.snapshot() == server.snapshot()
    assert again.digest() == server.digest()


def _random_log(
    data: Any, users: int = 3, length: int = 30
) -> tuple[dict[str, Any], list[LogEntry]]:
    """A random server-side log against a shadow state (resends and junk included)."""
    state = small_state()
    start = state.snapshot()
    log = Log(state)
    for _ in range(data.draw(st.integers(1, length))):
        user = f"u{data.draw(st.integers(0, users - 1))}"
        choice = data.draw(st.integers(0, 19))
        if choice == 0 and log.entries:
            old = data.draw(st.sampled_from(log.entries))
            resent = LogEntry(state.seq + 1, old.user_id, old.client_id, old.op_id, old.op)
            assert state.apply(resent).kind == "duplicate"
            log.entries.append(resent)
        elif choice == 1:
            log.add({"kind": "stroke", "frame": "f0", "cells": "junk"}, user)
        else:
            log.add(data.draw(ops_for(state, tag=f"{user}-")), user)
    return start, log.entries


@settings(max_examples=30)
@given(st.data())
def test_two_states_fed_one_log_are_identical(data: Any) -> None:
    start, entries = _random_log(data)
    first, second = EditState.from_snapshot(start), EditState.from_snapshot(start)
    first_effects = [first.apply(entry).to_json() for entry in entries]
    second_effects = [second.apply(entry).to_json() for entry in entries]
    assert first_effects == second_effects
    assert first.digest() == second.digest()
    assert first.snapshot() == second.snapshot()


@settings(max_examples=30)
@given(st.data())
def test_snapshot_then_replay_equals_full_replay(data: Any) -> None:
    start, entries = _random_log(data)
    full = EditState.from_snapshot(start)
    for entry in entries:
        full.apply(entry)
    cut = data.draw(st.integers(0, len(entries)))
    head = EditState.from_snapshot(start)
    for entry in entries[:cut]:
        head.apply(entry)
    resumed = EditState.from_snapshot(json.loads(json.dumps(head.snapshot())))
    for entry in entries[cut:]:
        resumed.apply(entry)
    assert resumed.snapshot() == full.snapshot()
    assert resumed.digest() == full.digest()


@settings(max_examples=30)
@given(st.data())
def test_undo_and_redo_only_touch_the_users_own_writes(data: Any) -> None:
    """Undo changes only cells holding the user's own write; redo only cells holding
    what that user's undo put back (an older value than the user's write), never a
    later write of someone else."""
    start, entries = _random_log(data)
    state, before = EditState.from_snapshot(start), EditState.from_snapshot(start)
    own_writes: dict[tuple[str, str, int, int], int] = {}
    for entry in entries:
        effect = state.apply(entry)
        for cell in effect.cells:
            register = before.cell(cell.frame_id, cell.row, cell.col)
            where = (entry.user_id, cell.frame_id, cell.row, cell.col)
            if effect.kind == "undo":
                assert register is not None and register.user == entry.user_id, (cell, register)
            elif effect.kind == "redo":
                assert register is not None
                assert register.user == entry.user_id or register.seq < own_writes[where]
            else:
                own_writes[where] = entry.seq
        before.apply(entry)
