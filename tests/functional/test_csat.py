"""Satisfaction surveys on a real hub: the chat's rating card over Socket.IO, the rating on
the customer record, the agent's console and the daily CSV; a queue without CSAT asks nothing."""

from __future__ import annotations

import asyncio
import csv
import io
from pathlib import Path

from hub.model import Role
from tests.functional.conftest import Client, Running, serve, settings_for
from tests.functional.test_chat_flow import agent, available, visitor

CSAT_QUEUES = (
    "[{name: support, channels: [webchat], offer_timeout_s: 20, wrap_up_s: 300,"
    " csat: {enabled: true}}]"
)


async def chat_closed_by_agent(running: Running) -> tuple[Client, Client, dict, int]:
    """Alice takes Carol's chat and closes it: (alice, carol, carol's session, interaction)."""
    alice = await agent(running, "alice@example.com", "Alice Agent")
    await available(alice)
    carol, session = await visitor(running)
    assert (await carol.call("message", {"body": "Where is my parcel?"}))["ok"]
    offer = await alice.next("offer")
    iid = offer["interaction_id"]
    assert (await alice.call("accept", {"interaction_id": iid}))["ok"]
    assert (await alice.call("close", {"interaction_id": iid}))["ok"]
    assert (await carol.next("conversation_closed"))["by"] == "agent"
    return alice, carol, session, iid


async def test_csat_chat_card_rating_reaches_record_console_and_csv(tmp_path: Path) -> None:
    async with serve(settings_for(tmp_path, HUB_QUEUES=CSAT_QUEUES)) as running:
        alice, carol, _, iid = await chat_closed_by_agent(running)
        card = await carol.next("survey")
        assert card["interaction_id"] == iid
        assert (card["min_score"], card["max_score"]) == (1, 5)

        for bad, field in (
            ({"interaction_id": iid, "score": 6}, "score"),
            ({"interaction_id": iid, "score": "great"}, "score"),
            ({"interaction_id": iid, "score": 4, "comment": "x" * 2001}, "comment"),
            ({"score": 4}, "interaction_id"),
        ):
            ack = await carol.call("rate", bad)
            assert ack["error"]["code"] == "invalid_input", ack
            assert field in ack["error"]["message"]

        # Another visitor cannot rate Carol's chat.
        mallory, _ = await visitor(running)
        ack = await mallory.call("rate", {"interaction_id": iid, "score": 1})
        assert ack["error"]["code"] == "not_found", ack

        ack = await carol.call("rate", {"interaction_id": iid, "score": 3, "comment": "Slow"})
        assert ack["ok"] and ack["score"] == 3, ack
        shown = await alice.next("interaction_rated")
        assert shown["interaction_id"] == iid and shown["rating"]["score"] == 3
        # Changed within the window (a mis-click): one rating, the latest.
        ack = await carol.call(
            "rate", {"interaction_id": iid, "score": 4, "comment": "Slow but <b>kind</b>"}
        )
        assert ack["ok"] and ack["score"] == 4, ack
        assert (await alice.next("interaction_rated"))["rating"]["score"] == 4

        token = await running.sign_in("alice@example.com")
        status, listing = await running.get("/api/v1/interactions?channel=webchat", token)
        assert status == 200
        [listed] = listing["interactions"]
        assert listed["rating"]["score"] == 4 and listed["rating"]["channel"] == "webchat"
        status, record = await running.get(f"/api/v1/customers/{listed['customer_id']}", token)
        assert status == 200
        [rated] = record["interactions"]
        assert rated["rating"]["comment"] == "Slow but <b>kind</b>"
        assert rated["rating"]["agent_id"] == rated["agent_id"]

        await running.add_user("sam@example.com", "Sam Supervisor", Role.SUPERVISOR)
        sam = await running.sign_in("sam@example.com")
        # The agent's day: their own, or their supervisor's view; not another agent's.
        figures = f"/api/v1/agents/{listed['agent_id']}/satisfaction"
        for who in (token, sam):
            status, day = await running.get(figures, who)
            assert status == 200, day
            assert (day["ratings"], day["average"]) == (1, 4.0)
            assert day["scores"] == {"1": 0, "2": 0, "3": 0, "4": 1, "5": 0}
        await running.add_user("ben@example.com", "Ben Agent")
        status, _ = await running.get(figures, await running.sign_in("ben@example.com"))
        assert status == 403
        status, day = await running.get(f"{figures}?date=2020-01-01", sam)
        assert status == 200 and (day["ratings"], day["average"]) == (0, None)
        status, text = await running.get("/api/v1/reports/interactions.csv", sam)
        assert status == 200
        [row] = list(csv.DictReader(io.StringIO(text)))
        assert (row["csat_score"], row["csat_comment"], row["csat_channel"]) == (
            "4",
            "Slow but <b>kind</b>",
            "webchat",
        )
        # Once the contact has ended, the historical reports average its score.
        assert (await alice.call("end_wrap_up", {"interaction_id": iid}))["ok"]
        status, history = await running.get("/api/v1/reports/history?interval=day", sam)
        assert status == 200, history
        [support] = history["totals"]
        assert (support["queue"], support["ended"], support["csat_avg"]) == ("support", 1, 4.0)
        for client in (alice, carol, mallory):
            await client.close()


async def test_csat_disabled_queue_sends_no_card_and_refuses_ratings(tmp_path: Path) -> None:
    async with serve(settings_for(tmp_path, wrap_up_s=300)) as running:
        alice, carol, _, iid = await chat_closed_by_agent(running)
        await asyncio.sleep(0.3)
        assert carol.pending("survey") == []
        ack = await carol.call("rate", {"interaction_id": iid, "score": 5})
        assert ack["error"]["code"] == "conflict", ack
        token = await running.sign_in("alice@example.com")
        _, listing = await running.get("/api/v1/interactions?channel=webchat", token)
        assert listing["interactions"][0]["rating"] is None
        for client in (alice, carol):
            await client.close()


async def test_csat_abandoned_chat_is_not_surveyed(tmp_path: Path) -> None:
    async with serve(settings_for(tmp_path, HUB_QUEUES=CSAT_QUEUES)) as running:
        carol, _ = await visitor(running)
        assert (await carol.call("message", {"body": "Anyone?"}))["ok"]
        assert (await carol.call("close", {}))["ok"]
        assert (await carol.next("conversation_closed"))["by"] == "customer"
        await asyncio.sleep(0.3)
        assert carol.pending("survey") == []
        await carol.close()


FOLLOWUP_QUEUES = (
    "[{name: support, channels: [webchat], wrap_up_s: 300,"
    " csat: {enabled: true, low_threshold: 2, followup_queue: care}},"
    " {name: care, channels: [webchat]}]"
)


async def away(client: Client) -> None:
    ack = await client.call("set_state", {"state": "away", "reason": "break"})
    assert ack["ok"], ack


async def test_csat_low_rating_opens_one_routed_followup_for_the_customer(
    tmp_path: Path,
) -> None:
    settings = settings_for(tmp_path, HUB_QUEUES=FOLLOWUP_QUEUES)
    async with serve(settings) as running:
        alice, carol, session, iid = await chat_closed_by_agent(running)
        await away(alice)  # only Sue takes new work
        sue = await agent(running, "sue@example.com", "Sue Supervisor")
        await available(sue)
        await carol.next("survey")
        ack = await carol.call("rate", {"interaction_id": iid, "score": 1, "comment": "Rude"})
        assert ack["ok"], ack

        offer = await sue.next("offer")
        assert offer["queue"] == "care" and offer["channel"] == "webchat"
        assert offer["preview"].startswith("Low satisfaction rating: 1/5 for interaction")
        followup_id = offer["interaction_id"]
        assert followup_id != iid
        ack = await sue.call("accept", {"interaction_id": followup_id})
        assert ack["ok"], ack
        [first] = ack["work"]["messages"]
        assert "agent Alice Agent" in first["body"] and "Comment: Rude" in first["body"]
        assert first["author_kind"] == "system"

        # The follow-up is on Carol's chat thread: Sue's reply reaches her chat box.
        ack = await sue.call("send_message", {"interaction_id": followup_id, "body": "Sorry!"})
        assert ack["ok"], ack
        got = await carol.wait_for("message", lambda m: m["message"]["body"] == "Sorry!")
        assert got["message"]["author_name"] == "Sue Supervisor"
        # Back in her chat box, Carol sees Sue's reply, never the staff-only first line.
        again, resumed = await visitor(running, session["token"])
        assert [m["body"] for m in resumed["messages"]] == ["Sorry!"]
        await again.close()

        # Changing the rating (still low) opens no second follow-up.
        ack = await carol.call("rate", {"interaction_id": iid, "score": 2})
        assert ack["ok"], ack
        await asyncio.sleep(0.3)
        assert sue.pending("offer") == []

        await running.add_user("sam@example.com", "Sam Supervisor", Role.SUPERVISOR)
        token = await running.sign_in("sam@example.com")
        _, listing = await running.get("/api/v1/interactions?channel=webchat", token)
        by_id = {i["interaction_id"]: i for i in listing["interactions"]}
        assert by_id[iid]["rating"]["followup_interaction_id"] == followup_id
        assert by_id[followup_id]["customer_id"] == by_id[iid]["customer_id"]
        assert by_id[followup_id]["queue"] == "care"
        for client in (alice, carol, sue):
            await client.close()


async def test_csat_rating_above_threshold_opens_no_followup(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, HUB_QUEUES=FOLLOWUP_QUEUES)
    async with serve(settings) as running:
        alice, carol, _, iid = await chat_closed_by_agent(running)
        await away(alice)  # only Sue takes new work
        sue = await agent(running, "sue@example.com", "Sue Supervisor")
        await available(sue)
        assert (await carol.call("rate", {"interaction_id": iid, "score": 3}))["ok"]
        await asyncio.sleep(0.3)
        assert sue.pending("offer") == []
        token = await running.sign_in("alice@example.com")
        _, listing = await running.get("/api/v1/interactions?channel=webchat", token)
        [only] = listing["interactions"]
        assert only["rating"]["followup_interaction_id"] is None
        for client in (alice, carol, sue):
            await client.close()
