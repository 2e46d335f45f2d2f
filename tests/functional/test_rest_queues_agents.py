"""Queues and agents over REST, against a real hub: ``GET /api/v1/queues`` shows exactly what
the wallboard's tiles show after real chats (one answered, one abandoned...); an agent's stats
for a day built step by step match the figures worked out by hand; who may read what."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from hub.model import AgentStep, Channel, Presence, Role
from hub.storage.ratings import SqlRatingStore
from tests.functional.conftest import Running, connect
from tests.functional.test_api_keys import new_key, with_key
from tests.functional.test_history import a_day_of_traffic, get_ok, history_hub
from tests.functional.test_store import chat

DAY = datetime(2026, 1, 2, tzinfo=UTC)  # reports.timezone is UTC here


async def test_queues_show_what_the_wallboard_tiles_show(tmp_path: Path) -> None:
    async with history_hub(tmp_path) as running:
        # Chat 1 answered and finished, chat 2 answered then moved to sales, chat 3 abandoned,
        # chat 4 still waiting; both agents away.
        *_, clients = await a_day_of_traffic(running)
        await running.add_user("sam@example.com", "Sam Supervisor", Role.SUPERVISOR)
        sam = await running.sign_in("sam@example.com")
        wallboard = await connect(running.base, "/supervisor", token=sam)
        snapshot = await wallboard.next("snapshot")
        listed = await get_ok(running, "/api/v1/queues", sam)

        tiles = {q["name"]: q for q in snapshot["queues"]}
        queues = {q["name"]: q for q in listed["queues"]}
        assert sorted(queues) == ["sales", "support"]
        for name, tile in tiles.items():
            got = queues[name]
            # Every figure a tile shows, the same (the longest wait is counted at each
            # reading's own time, so it only grows).
            same = {k: v for k, v in tile.items() if k != "longest_wait_s"}
            assert {k: got[k] for k in same} == same, name
        support = queues["support"]
        # The router's counts, as the tile shows them: chat 2 entered and was answered in
        # support before it moved to sales, where it was answered again.
        assert (support["waiting"], support["entered_today"]) == (1, 4)
        assert (support["answered_today"], support["abandoned_today"]) == (2, 1)
        assert queues["sales"]["answered_today"] == 1
        assert support["staff"] == {"available": 0, "busy": 0, "away": 2}
        assert support["longest_wait_s"] >= tiles["support"]["longest_wait_s"] >= 0
        # The configuration an integrator needs, with the tile's thresholds.
        assert support["channels"] == ["webchat"] and support["sla_s"] == 20
        assert support["priority"] == 0 and support["longest_wait_warn_s"] == 60

        # A supervisor limited to sales sees only it.
        await running.add_user("sue@example.com", "Sue Supervisor", Role.SUPERVISOR)
        sue = await running.sign_in("sue@example.com")
        mine = await get_ok(running, "/api/v1/queues", sue)
        assert [q["name"] for q in mine["queues"]] == ["sales"]
        # Agents are refused; a key needs reports:read.
        alice = await running.sign_in("alice@example.com")
        status, body = await running.get("/api/v1/queues", alice)
        assert (status, body["error"]["code"]) == (403, "forbidden")
        await running.add_user("ada@example.com", "Ada Admin", Role.ADMIN)
        ada = await running.sign_in("ada@example.com")
        reports, _ = await new_key(running, ada, "erp reports", "reports:read")
        agents_only, _ = await new_key(running, ada, "erp agents", "agents:read")
        status, body = await with_key(running, reports, "GET", "/api/v1/queues")
        assert status == 200 and sorted(q["name"] for q in body["queues"]) == sorted(queues)
        status, _ = await with_key(running, agents_only, "GET", "/api/v1/queues")
        assert status == 403
        for client in [wallboard, *clients]:
            await client.close()


async def a_hand_built_day(running: Running, alice_id: int, bob_id: int) -> None:
    """Alice signed in 09:00-11:00. Chat A: she answers at 09:00:10, wraps up at 09:10:10,
    ends at 09:11:10, rated 4. Chat B: an offer expires on her, she answers at 09:31:05 and
    transfers it at 09:36:05 to sales, where Bob finishes it."""
    store = running.hub.store

    def at(clock: str) -> datetime:
        h, m, s = (int(x) for x in clock.split(":"))
        return DAY.replace(hour=h, minute=m, second=s)

    await store.add_agent_step(AgentStep(alice_id, Presence.AVAILABLE, at("09:00:00")))
    await store.add_agent_step(AgentStep(alice_id, Presence.OFFLINE, at("11:00:00")))

    async def arrives(visitor: str, when: str) -> int:
        came = await store.record_inbound(
            chat(visitor, "hello"), queue="support", priority=0, now=at(when)
        )
        return came.interaction.interaction_id

    a = await arrives("v-a", "09:00:00")
    for step, when, who in (
        ("assigned", "09:00:10", alice_id),
        ("closed_by_agent", "09:10:10", alice_id),
        ("ended", "09:11:10", alice_id),
    ):
        await store.add_step(a, step, now=at(when), agent_id=who)
    b = await arrives("v-b", "09:30:00")
    for step, when, who in (
        ("offer_expired", "09:30:25", alice_id),
        ("assigned", "09:31:05", alice_id),
        ("transferred", "09:36:05", alice_id),
        ("assigned", "09:37:00", bob_id),
        ("closed_by_agent", "09:40:00", bob_id),
        ("ended", "09:40:30", bob_id),
    ):
        await store.add_step(b, step, now=at(when), agent_id=who)
    await SqlRatingStore(store).save_rating(
        a, score=4, comment=None, channel=Channel.WEBCHAT, now=at("09:12:00")
    )


async def test_agent_stats_for_a_hand_built_day(tmp_path: Path) -> None:
    async with history_hub(tmp_path) as running:
        alice_id = await running.add_user("alice@example.com", "Alice Agent")
        bob_id = await running.add_user("bob@example.com", "Bob Agent")
        await a_hand_built_day(running, alice_id, bob_id)
        alice = await running.sign_in("alice@example.com")
        day = DAY.date().isoformat()
        stats = await get_ok(running, f"/api/v1/agents/{alice_id}/stats?since={day}", alice)
        assert (stats["since"], stats["until"]) == (day, day)
        # Handle parts: A 600 s (to wrap-up) and B 300 s (to the transfer); A's wrap-up 60 s.
        # Held (assigned to ended or the transfer): 660 s + 300 s of 7200 s signed in.
        assert {
            k: stats[k]
            for k in (
                "handled",
                "aht_s",
                "wrap_up_avg_s",
                "occupancy",
                "missed",
                "transfers",
                "csat_avg",
                "csat_count",
            )
        } == {
            "handled": 1,
            "aht_s": 450.0,
            "wrap_up_avg_s": 60.0,
            "occupancy": round(960 / 7200, 4),
            "missed": 1,
            "transfers": 1,
            "csat_avg": 4.0,
            "csat_count": 1,
        }
        # Today (the default) she did nothing; a day without her is all zeros too.
        today = await get_ok(running, f"/api/v1/agents/{alice_id}/stats", alice)
        assert (today["handled"], today["aht_s"], today["csat_count"]) == (0, None, 0)

        # A colleague's figures are not hers to read; a supervisor reads everyone's.
        bob = await running.sign_in("bob@example.com")
        status, body = await running.get(f"/api/v1/agents/{alice_id}/stats?since={day}", bob)
        assert (status, body["error"]["code"]) == (403, "forbidden")
        await running.add_user("sam@example.com", "Sam Supervisor", Role.SUPERVISOR)
        sam = await running.sign_in("sam@example.com")
        bobs = await get_ok(running, f"/api/v1/agents/{bob_id}/stats?since={day}", sam)
        assert (bobs["handled"], bobs["aht_s"], bobs["wrap_up_avg_s"]) == (1, 180.0, 30.0)

        for query, words in (
            ("since=yesterday", "since must be YYYY-MM-DD"),
            (f"since={day}&until=2025-12-31", "until must not be before since"),
            ("since=2026-01-01&until=2026-04-03", "at most 92 days"),
        ):
            status, err = await running.get(f"/api/v1/agents/{alice_id}/stats?{query}", sam)
            assert status == 400 and words in err["error"]["message"], (query, err)


async def test_one_agent_and_who_may_read_it(tmp_path: Path) -> None:
    async with history_hub(tmp_path) as running:
        alice_id = await running.add_user("alice@example.com", "Alice Agent")
        await running.add_user("ada@example.com", "Ada Admin", Role.ADMIN)
        ada = await running.sign_in("ada@example.com")
        agent = (await get_ok(running, f"/api/v1/agents/{alice_id}", ada))["agent"]
        assert (agent["agent_id"], agent["name"], agent["state"]) == (
            alice_id,
            "Alice Agent",
            "offline",
        )
        status, body = await running.get("/api/v1/agents/999999", ada)
        assert (status, body["error"]["code"]) == (404, "not_found")
        agents_key, _ = await new_key(running, ada, "wfm", "agents:read")
        reports_key, _ = await new_key(running, ada, "bi", "reports:read")
        status, body = await with_key(
            running, agents_key, "GET", f"/api/v1/agents/{alice_id}/stats"
        )
        assert status == 200 and body["agent_id"] == alice_id
        status, _ = await with_key(running, reports_key, "GET", f"/api/v1/agents/{alice_id}")
        assert status == 403
