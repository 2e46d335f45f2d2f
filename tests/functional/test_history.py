"""Historical reports over REST, from real traffic: chats offered, answered, transferred,
wrapped up and abandoned through Socket.IO clients. For today the history equals the live
wallboard's figures (``/api/v1/reports/today``) exactly; a supervisor limited to a queue sees
only it, an agent is refused; the CSV is formula-safe; what the fold reads comes from
SQLite and PostgreSQL alike."""

from __future__ import annotations

import contextlib
import csv
import io
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from hub.config import load_settings
from hub.lifecycle import Action
from hub.model import Role
from hub.storage.history import SqlHistory
from hub.storage.sql import SqlStore
from tests.functional.backend import hub_database_url
from tests.functional.conftest import Client, Running, connect, free_port, serve
from tests.functional.test_store import NOW, chat, store  # noqa: F401 (the store fixture)

CONFIG = """
queues:
  - {name: support, channels: [webchat], wrap_up_s: 300, sla_s: 20}
  - {name: sales, channels: [webchat], wrap_up_s: 300, sla_s: 30}
agents:
  - {email: sue@example.com, supervises: [sales]}
"""
SAME = ("offered", "answered", "abandoned", "service_level", "asa_s")


@contextlib.asynccontextmanager
async def history_hub(tmp_path: Path) -> AsyncIterator[Running]:
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG)
    settings = load_settings(
        config,
        {
            "HUB_DATABASE__URL": hub_database_url(tmp_path),
            "HUB_HTTP__PORT": str(free_port()),
            "HUB_SECURITY__SECRET_KEY": "test-secret-key-not-for-production",
        },
    )
    async with serve(settings) as running:
        yield running


async def agent(running: Running, email: str, name: str) -> tuple[int, Client]:
    agent_id = await running.add_user(email, name)
    client = await connect(running.base, "/agent", token=await running.sign_in(email))
    await client.next("hello")
    return agent_id, client


async def visitor_writes(running: Running, text: str) -> Client:
    visitor = await connect(running.base, "/chat", auth={})
    await visitor.next("session")
    assert (await visitor.call("message", {"body": text}))["ok"]
    return visitor


async def take(client: Client) -> int:
    offer = await client.next("offer")
    ack = await client.call("accept", {"interaction_id": offer["interaction_id"]})
    assert ack["ok"], ack
    return int(offer["interaction_id"])


async def finish(client: Client, iid: int) -> None:
    assert (await client.call("close", {"interaction_id": iid}))["ok"]
    assert (await client.call("end_wrap_up", {"interaction_id": iid}))["ok"]
    await client.wait_for(
        "interaction_updated", lambda u: u["interaction_id"] == iid and u.get("state") == "ended"
    )


async def a_day_of_traffic(running: Running) -> tuple[int, int, list[Client]]:
    """Chat 1: Alice answers and finishes it. Chat 2: Alice answers and transfers it to
    sales, where Bob finishes it. Chat 3: abandoned while nobody is available. Chat 4:
    still waiting."""
    alice_id, alice = await agent(running, "alice@example.com", "Alice Agent")
    bob_id, bob = await agent(running, "bob@example.com", "=Bob Agent")
    assert (await alice.call("set_state", {"state": "available"}))["ok"]
    one = await visitor_writes(running, "my parcel is late")
    await finish(alice, await take(alice))
    two = await visitor_writes(running, "I would like to buy")
    iid = await take(alice)
    assert (await alice.call("transfer", {"interaction_id": iid, "queue": "sales"}))["ok"]
    assert (await bob.call("set_state", {"state": "available"}))["ok"]
    assert await take(bob) == iid
    await finish(bob, iid)
    for client in (alice, bob):
        assert (await client.call("set_state", {"state": "away"}))["ok"]
    three = await visitor_writes(running, "hello?")
    assert (await three.call("close", {}))["ok"]
    four = await visitor_writes(running, "anyone there?")
    return alice_id, bob_id, [alice, bob, one, two, four]


async def get_ok(running: Running, path: str, token: str) -> Any:
    status, body = await running.get(path, token)
    assert status == 200, (path, body)
    return body


async def test_history_of_today_equals_the_live_wallboard(tmp_path: Path) -> None:
    async with history_hub(tmp_path) as running:
        alice_id, bob_id, clients = await a_day_of_traffic(running)
        await running.add_user("sam@example.com", "Sam Supervisor", Role.SUPERVISOR)
        sam = await running.sign_in("sam@example.com")
        today = await get_ok(running, "/api/v1/reports/today", sam)
        by_queue = await get_ok(running, "/api/v1/reports/history?interval=day", sam)
        totals = {t["queue"]: t for t in by_queue["totals"]}
        # What a supervisor reads on the wallboard, the same in the history.
        for name, live in today["queues"].items():
            got = totals.get(name, dict.fromkeys(SAME, 0) | {"service_level": None})
            assert {k: got[k] for k in SAME} == {k: live[k] for k in SAME}, name
        # Chat 2 now belongs to sales (as on the wallboard): support was offered 1, 3, 4.
        support, sales = totals["support"], totals["sales"]
        assert (support["offered"], support["answered"], support["abandoned"]) == (3, 1, 1)
        assert (sales["offered"], sales["answered"], sales["transfers"]) == (1, 2, 1)
        assert (support["ended"], sales["ended"], support["fcr"], sales["fcr"]) == (1, 1, 1, 1)
        assert support["aht_s"] is not None and support["wrap_up_avg_s"] is not None
        assert support["csat_avg"] is None  # no queue here asks for ratings

        by_agent = await get_ok(running, "/api/v1/reports/history?interval=day&group=agent", sam)
        agents = {t["agent_id"]: t for t in by_agent["totals"]}
        for agent_id in (alice_id, bob_id):
            live = today["agents"][str(agent_id)]
            assert (agents[agent_id]["handled"], agents[agent_id]["missed"]) == (
                live["handled"],
                live["missed"],
            )
        assert agents[alice_id]["transfers"] == 1 and agents[alice_id]["answered"] == 2
        assert agents[bob_id]["agent_name"] == "=Bob Agent"
        assert agents[None]["offered"] == 4 and agents[None]["abandoned"] == 1

        # The wallboard's quarter hours, contact by contact.
        quarters = await get_ok(
            running, "/api/v1/reports/history?interval=15min&group=channel", sam
        )
        assert len(quarters["intervals"]) in (92, 96, 100)  # a local day, clock changes too
        rows = {datetime.fromisoformat(r["start"]): r for r in quarters["rows"]}
        for bucket in today["buckets"]:
            empty = {"offered": 0, "service_level": None}
            row = rows.get(datetime.fromisoformat(bucket["start"]), empty)
            assert row["offered"] == sum(bucket["contacts"].values()), bucket["start"]
            assert row["service_level"] == bucket["service_level"], bucket["start"]

        # The same figures as CSV, safe to open in a spreadsheet.
        status, text = await running.get(
            "/api/v1/reports/history?interval=day&group=agent&format=csv", sam
        )
        assert status == 200
        lines = list(csv.DictReader(io.StringIO(text)))
        bob = next(r for r in lines if r["agent_id"] == str(bob_id))
        assert bob["agent_name"] == "'=Bob Agent"
        assert bob["handled"] == str(agents[bob_id]["handled"])
        for client in clients:
            await client.close()


async def test_history_access_and_bad_input(tmp_path: Path) -> None:
    async with history_hub(tmp_path) as running:
        *_, clients = await a_day_of_traffic(running)
        alice = await running.sign_in("alice@example.com")
        status, body = await running.get("/api/v1/reports/history", alice)
        assert (status, body["error"]["code"]) == (403, "forbidden")

        await running.add_user("sue@example.com", "Sue Supervisor", Role.SUPERVISOR)
        sue = await running.sign_in("sue@example.com")
        mine = await get_ok(running, "/api/v1/reports/history?interval=hour", sue)
        assert {r["queue"] for r in mine["rows"]} == {"sales"}
        assert [t["queue"] for t in mine["totals"]] == ["sales"]
        _, text = await running.get("/api/v1/reports/history?format=csv", sue)
        assert {r["queue"] for r in csv.DictReader(io.StringIO(text))} == {"sales"}
        await running.add_user("ada@example.com", "Ada Admin", Role.ADMIN)
        ada = await running.sign_in("ada@example.com")
        everyone = await get_ok(running, "/api/v1/reports/history", ada)
        assert sorted(t["queue"] for t in everyone["totals"]) == ["sales", "support"]

        day = everyone["from"]
        for query, words in (
            ("from=yesterday", "from must be YYYY-MM-DD"),
            (f"from={day}&to=2000-01-01", "to must not be before from"),
            ("from=2026-01-01&to=2026-04-03", "at most 92 days"),
            ("interval=week", "interval must be one of: 15min, hour, day"),
            ("group=customer", "group must be one of: queue, agent, channel"),
            ("format=xlsx", "format must be one of: json, csv"),
        ):
            status, err = await running.get(f"/api/v1/reports/history?{query}", ada)
            assert status == 400 and words in err["error"]["message"], (query, err)
        status, doc = await running.get("/api/v1/openapi.json")
        assert "/api/v1/reports/history" in doc["paths"]
        for client in clients:
            await client.close()


async def test_store_reads_a_range_and_the_customers_other_contacts(store: SqlStore) -> None:  # noqa: F811
    history = SqlHistory(store)
    earlier = await store.record_inbound(
        chat("v-1", "yesterday"), queue="support", priority=0, now=NOW - timedelta(hours=20)
    )
    await store.transition(
        earlier.interaction.interaction_id, Action.ABANDON, now=NOW - timedelta(hours=20)
    )
    long_ago = await store.record_inbound(
        chat("v-2", "last week"), queue="support", priority=0, now=NOW - timedelta(days=7)
    )
    today = await store.record_inbound(chat("v-1", "again"), queue="sales", priority=0, now=NOW)
    day = (NOW - timedelta(hours=1), NOW + timedelta(hours=1))

    records = await history.records(*day, None)
    assert [r.interaction.interaction_id for r in records] == [today.interaction.interaction_id]
    assert [s.step for s in records[0].steps] == ["queued"]
    assert await history.records(*day, frozenset({"support"})) == []

    contacts = await history.contacts(*day, timedelta(hours=24))
    customer = today.interaction.customer_id
    assert customer == earlier.interaction.customer_id  # the same visitor
    assert sorted(iid for _, iid in contacts[customer]) == [
        earlier.interaction.interaction_id,
        today.interaction.interaction_id,
    ]
    assert long_ago.interaction.customer_id not in contacts
