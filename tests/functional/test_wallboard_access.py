"""Only supervisors run the floor: an agent's socket cannot even join /supervisor, and the
REST routes refuse them; bad input gets a clear error naming the field."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path

import pytest
import socketio

from hub.app import utc_now
from hub.model import Role
from tests.functional.conftest import Running, connect, serve, settings_for


async def test_agent_cannot_use_supervisor_events_or_routes(hub_server: Running) -> None:
    hub = hub_server
    alice_id = await hub.add_user("alice@example.com", "Alice Agent")
    token = await hub.sign_in("alice@example.com")
    with pytest.raises(socketio.exceptions.ConnectionError):
        await connect(hub.base, "/supervisor", token=token)
    for method, path, body in (
        ("GET", "/api/v1/reports/interactions.csv", None),
        ("GET", "/api/v1/reports/today", None),
        ("POST", f"/api/v1/agents/{alice_id}/state", {"state": "away"}),
        ("POST", f"/api/v1/agents/{alice_id}/logout", {}),
        ("POST", "/api/v1/interactions/1/move", {"queue": "support"}),
    ):
        # As the console would send it (same Origin, CSRF token): refused for the role.
        status, answer = await hub.send(method, path, token, json=body)
        assert status == 403, path
        assert answer["error"]["code"] == "forbidden"


async def test_supervisor_actions_refuse_bad_input(hub_server: Running) -> None:
    hub = hub_server
    sam_id = await hub.add_user("sam@example.com", "Sam Supervisor", Role.SUPERVISOR)
    alice_id = await hub.add_user("alice@example.com", "Alice Agent")
    sam = await connect(hub.base, "/supervisor", token=await hub.sign_in("sam@example.com"))
    hello = await sam.next("hello")
    assert hello["queues"]["support"]["longest_wait_warn_s"] == 60
    day = await sam.next("day")
    assert day["queues"]["support"]["offered"] == 0
    bad = await sam.call("set_agent_state", {"agent_id": alice_id, "state": "asleep"})
    assert (
        bad["error"]["code"] == "invalid_input"
        and "state must be one of" in bad["error"]["message"]
    )
    ghost = await sam.call("set_agent_state", {"agent_id": alice_id, "state": "available"})
    assert ghost["error"]["code"] == "conflict" and "no console open" in ghost["error"]["message"]
    myself = await sam.call("log_out_agent", {"agent_id": sam_id})
    assert myself["error"]["code"] == "invalid_input"
    missing = await sam.call("log_out_agent", {"agent_id": 999})
    assert missing["error"]["code"] == "not_found"
    nothing = await sam.call("whisper", {"interaction_id": "x", "body": "hi"})
    assert nothing["error"]["message"] == "interaction_id must be an integer"
    ok = await sam.call(
        "set_agent_state", {"agent_id": alice_id, "state": "away", "reason": "lunch"}
    )
    assert ok["agent"] == {"agent_id": alice_id, "state": "away", "reason": "lunch"}
    await sam.close()
    # The step names the supervisor (audit trail).
    steps = await hub.hub.store.agent_steps(day_start_of(day), hub.hub.router.snapshot().at)
    assert any(s.agent_id == alice_id and s.reason == "lunch" and s.by for s in steps)


async def test_csv_export_is_formula_safe(hub_server: Running) -> None:
    hub = hub_server
    await hub.add_user("sam@example.com", "Sam Supervisor", Role.SUPERVISOR)
    token = await hub.sign_in("sam@example.com")
    visitor = await connect(hub.base, "/chat", auth={})
    await visitor.next("session")
    assert (await visitor.call("message", {"body": "hello"}))["ok"]
    status, body = await hub.get("/api/v1/reports/interactions.csv", token)
    assert status == 200
    rows = list(csv.DictReader(io.StringIO(body)))
    assert len(rows) == 1 and rows[0]["state"] in ("queued", "offered")
    status, doc = await hub.get("/api/v1/openapi.json")
    assert "/api/v1/reports/interactions.csv" in doc["paths"]
    status, err = await hub.get("/api/v1/reports/interactions.csv?date=yesterday", token)
    assert status == 400 and "date must be YYYY-MM-DD" in err["error"]["message"]
    await visitor.close()


def day_start_of(day: dict[str, object]) -> datetime:
    return datetime.fromisoformat(str(day["start"]))


async def test_supervisor_moves_a_chat_and_today_survives_a_restart(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    async with serve(settings) as hub:
        await hub.add_user("sam@example.com", "Sam Supervisor", Role.SUPERVISOR)
        await hub.add_user("alice@example.com", "Alice Agent")
        bob_id = await hub.add_user("bob@example.com", "Bob Agent")
        sam = await connect(hub.base, "/supervisor", token=await hub.sign_in("sam@example.com"))
        alice = await connect(hub.base, "/agent", token=await hub.sign_in("alice@example.com"))
        await alice.next("hello")
        await alice.call("set_state", {"state": "available"})
        visitor = await connect(hub.base, "/chat", auth={})
        await visitor.next("session")
        assert (await visitor.call("message", {"body": "help"}))["ok"]
        offer = await alice.next("offer")
        iid = offer["interaction_id"]
        assert (await alice.call("accept", {"interaction_id": iid}))["ok"]
        bob = await connect(hub.base, "/agent", token=await hub.sign_in("bob@example.com"))
        await bob.next("hello")
        await bob.call("set_state", {"state": "available"})
        moved = await sam.call("move_interaction", {"interaction_id": iid, "agent_id": bob_id})
        assert moved["ok"], moved
        await alice.wait_for("interaction_updated", lambda d: d["state"] == "transferred")
        assert (await bob.next("offer"))["interaction_id"] == iid
        record = await hub.hub.store.interaction(iid)
        steps = (await hub.hub.store.day_records(record.created_at, utc_now()))[0].steps
        assert "moved_by_supervisor" in [s.step for s in steps]
        for client in (sam, alice, bob, visitor):
            await client.close()
    async with serve(settings) as hub:
        support = next(q for q in hub.hub.router.snapshot().queues if q.name == "support")
        assert (support.entered_today, support.answered_today) == (1, 1)
