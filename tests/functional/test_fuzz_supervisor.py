"""The ``/supervisor`` namespace under random JSON payloads: every event answers with an ack,
``{"ok": true, ...}`` or a clear ``{"error": {"code", "message"}}``, never an internal error
or a dropped connection, while a real agent holds a real chat the payloads can aim at.

Hypothesis runs in a worker thread and hands each call to the test's event loop, where the
hub and the supervisor's Socket.IO client live.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from hub.model import Role
from tests.functional.conftest import Client, connect, serve, settings_for

CASES = 300
EVENTS = (
    "set_agent_state",
    "log_out_agent",
    "move_interaction",
    "watch",
    "unwatch",
    "whisper",
    "call_monitor",
    "current_interactions",
)
KEYS = (
    "interaction_id", "agent_id", "state", "reason", "queue", "body", "mode", "to_queue",
    "to_agent_id", "note",
)  # fmt: skip


def payloads(ids: list[int]) -> st.SearchStrategy[Any]:
    """JSON of any shape; object keys mostly the events' own, values often real ids."""
    scalar = st.one_of(
        st.none(),
        st.booleans(),
        st.sampled_from(ids),
        st.integers(),
        st.floats(),
        st.text(max_size=30),
        st.sampled_from(["available", "away", "offline", "support", "listen", "whisper", "stop"]),
        st.integers(5_000, 20_000).map(lambda n: "x" * n),
    )
    json = st.recursive(
        scalar,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3),
            st.dictionaries(
                st.one_of(st.sampled_from(KEYS), st.text(max_size=8)), inner, max_size=4
            ),
        ),
        max_leaves=8,
    )
    fields = st.dictionaries(st.sampled_from(KEYS), json, max_size=4)
    return st.one_of(fields, json)


def fuzz(
    loop: asyncio.AbstractEventLoop, sam: Client, ids: list[int], tally: dict[str, Any]
) -> None:
    @settings(
        max_examples=CASES,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],  # shrinking would replay real I/O for minutes
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(event=st.sampled_from(EVENTS), data=payloads(ids))
    def run(event: str, data: Any) -> None:
        ack = asyncio.run_coroutine_threadsafe(
            sam.sio.call(event, data, namespace="/supervisor", timeout=5), loop
        ).result(10)
        tally["cases"] += 1
        assert isinstance(ack, dict), (event, data, ack)
        if "error" in ack:
            error = ack["error"]
            assert error["code"] != "error" and error["message"], (event, data, ack)
            tally["errors"][error["code"]] = tally["errors"].get(error["code"], 0) + 1
        else:
            assert ack.get("ok") is True, (event, data, ack)
            tally["ok"] += 1
        assert sam.sio.connected and "/supervisor" in sam.sio.namespaces, (event, data)

    run()


async def test_supervisor_events_random_payloads_get_acks_never_crashes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with serve(settings_for(tmp_path)) as hub:
        alice_id = await hub.add_user("alice@example.com", "Alice Agent")
        await hub.add_user("sam@example.com", "Sam Supervisor", Role.SUPERVISOR)
        alice = await connect(hub.base, "/agent", token=await hub.sign_in("alice@example.com"))
        await alice.next("hello")
        assert (await alice.call("set_state", {"state": "available"}))["ok"]
        visitor = await connect(hub.base, "/chat", auth={})
        await visitor.next("session")
        assert (await visitor.call("message", {"body": "help"}))["ok"]
        offer = await alice.next("offer")
        assert (await alice.call("accept", {"interaction_id": offer["interaction_id"]}))["ok"]
        sam = await connect(hub.base, "/supervisor", token=await hub.sign_in("sam@example.com"))
        caplog.set_level(logging.WARNING)
        tally: dict[str, Any] = {"cases": 0, "ok": 0, "errors": {}}
        ids = [offer["interaction_id"], alice_id, 0, -1]
        await asyncio.to_thread(fuzz, asyncio.get_running_loop(), sam, ids, tally)
        print(
            f"\nSupervisor fuzz: {tally['cases']} events, {tally['ok']} ok,"
            f" errors by code {dict(sorted(tally['errors'].items()))}"
        )
        crashed = [r for r in caplog.records if r.exc_info]
        assert crashed == [], [r.getMessage() for r in crashed]
        assert (await sam.call("current_interactions"))["ok"]
        for client in (sam, alice, visitor):
            await client.close()
