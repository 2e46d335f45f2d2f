"""Every Socket.IO event an agent or a visitor can send, with payloads from hypothesis: the hub
answers each with a real ack (ok, or an error with a code of the API, never the internal
"error"), and an error ack leaves the database exactly as it was."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.faults import hub_process
from tests.functional.conftest import Client, Running, connect, serve, settings_for

AGENT_EVENTS = [
    "set_state",
    "accept",
    "decline",
    "send_message",
    "typing",
    "add_note",
    "close",
    "transfer",
    "call_control",
    "end_wrap_up",
]
VISITOR_EVENTS = ["message", "profile", "typing", "close"]
API_CODES = {
    "invalid_input",
    "unauthorised",
    "forbidden",
    "not_found",
    "conflict",
    "rate_limited",
    "unavailable",
}
KEYS = [
    "interaction_id",
    "agent_id",
    "body",
    "state",
    "reason",
    "queue",
    "typing",
    "name",
    "email",
    "action",
    "muted",
]
IDS = st.integers(min_value=-(2**63), max_value=2**63) | st.integers(min_value=0, max_value=8)
LEAVES = (
    st.none()
    | st.booleans()
    | IDS
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=300)
    | st.sampled_from(["available", "away", "break", "support", "hold", "mute", "", "\x00"])
)
JSONISH = st.recursive(
    LEAVES,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=10), inner, max_size=5)
    ),
    max_leaves=12,
)
PAYLOADS = JSONISH | st.fixed_dictionaries({}, optional={k: JSONISH for k in KEYS})


# Not part of "what an event wrote": the audit trail is written in the background (entries of
# earlier, successful events may land at any moment), and a session's last_seen_at records
# activity, which any event is.
UNFINGERPRINTED = frozenset({"audit_log", "sessions"})


def fingerprint(db: Path) -> str:
    return hub_process.fingerprint(db, skip=UNFINGERPRINTED)


@contextlib.contextmanager
def hub_with_work(tmp_path: Path) -> Iterator[tuple[asyncio.AbstractEventLoop, Client, Client]]:
    """A hub on its own loop, an agent holding a chat and with an offer open, and a visitor."""
    loop = asyncio.new_event_loop()
    settings = settings_for(
        tmp_path, offer_timeout_s=3600, wrap_up_s=3600, HUB_WEBCHAT__MESSAGES_PER_MINUTE="60000"
    )
    server = serve(settings)
    try:
        running: Running = loop.run_until_complete(server.__aenter__())

        async def prepare() -> tuple[Client, Client]:
            await running.add_user("alice@example.com", "Alice")
            agent = await connect(
                running.base, "/agent", token=await running.sign_in("alice@example.com")
            )
            await agent.next("hello")
            await agent.call("set_state", {"state": "available"})
            visitors = []
            for body in ("first chat", "second chat"):
                visitor = await connect(running.base, "/chat", auth={})
                await visitor.next("session")
                await visitor.call("message", {"body": body})
                visitors.append(visitor)
            offer = await agent.next("offer")
            await agent.call("accept", {"interaction_id": offer["interaction_id"]})
            return agent, visitors[1]

        agent, visitor = loop.run_until_complete(prepare())
        yield loop, agent, visitor
        loop.run_until_complete(agent.close())
        loop.run_until_complete(visitor.close())
    finally:
        loop.run_until_complete(server.__aexit__(None, None, None))
        loop.close()


def check(loop: asyncio.AbstractEventLoop, client: Client, db: Path, event: str, data: Any) -> None:
    before = fingerprint(db)
    ack = loop.run_until_complete(client.sio.call(event, data, namespace=client.namespace))
    assert isinstance(ack, dict), ack
    if ack.get("ok") is True:
        return
    assert ack["error"]["code"] in API_CODES, (event, data, ack)
    assert fingerprint(db) == before, (event, data, ack)


@pytest.mark.timeout(180)  # 300 cases, each a round trip and two reads of the database
def test_fuzzed_agent_and_visitor_events_get_real_acks_and_errors_write_nothing(
    tmp_path: Path,
) -> None:
    db = tmp_path / "hub.db"
    ran = {"agent": 0, "visitor": 0}
    with hub_with_work(tmp_path) as (loop, agent, visitor):

        @settings(
            max_examples=200,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow],
        )
        @given(event=st.sampled_from(AGENT_EVENTS), data=PAYLOADS)
        def agent_events(event: str, data: Any) -> None:
            ran["agent"] += 1
            check(loop, agent, db, event, data)

        @settings(
            max_examples=100,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow],
        )
        @given(event=st.sampled_from(VISITOR_EVENTS), data=PAYLOADS)
        def visitor_events(event: str, data: Any) -> None:
            ran["visitor"] += 1
            check(loop, visitor, db, event, data)

        agent_events()
        visitor_events()
    print(f"fuzzed {ran['agent']} agent events and {ran['visitor']} visitor events")
    assert ran["agent"] >= 100 and ran["visitor"] >= 50
