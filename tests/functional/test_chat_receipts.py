"""Delivered / read on chat replies: the visitor's chat box acknowledges an agent's reply,
the hub stores it on the message, and every console tab of the agent is told; a reload (of
either side) shows the same. Only the visitor's own conversation's replies are accepted."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from tests.functional.conftest import Client, Running, connect, serve, settings_for
from tests.functional.test_chat_flow import agent, available, visitor


async def _chat(running: Running) -> tuple[Client, Client, dict[str, Any], int]:
    """Alice (one tab) accepts a visitor's chat; returns alice, the visitor, their session and
    the interaction id."""
    alice = await agent(running, "alice@example.com", "Alice Agent")
    await available(alice)
    carol, session = await visitor(running)
    assert (await carol.call("message", {"body": "Where is my parcel?"}))["ok"]
    offer = await alice.next("offer")
    iid = offer["interaction_id"]
    assert (await alice.call("accept", {"interaction_id": iid}))["ok"]
    return alice, carol, session, iid


async def _reply(alice: Client, carol: Client, iid: int, body: str) -> int:
    ack = await alice.call("send_message", {"interaction_id": iid, "body": body})
    assert ack["ok"], ack
    assert "delivered_at" not in ack["message"]  # nothing acknowledged yet
    got = await carol.wait_for("message", lambda m: m["message"]["body"] == body)
    return int(got["message"]["message_id"])


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def test_receipts_are_stored_and_told_to_every_tab_of_the_agent(tmp_path: Path) -> None:
    async with serve(settings_for(tmp_path)) as running:
        alice, carol, session, iid = await _chat(running)
        second_tab = await connect(
            running.base, "/agent", token=await running.sign_in("alice@example.com")
        )
        await second_tab.next("hello")
        message_id = await _reply(alice, carol, iid, "It left the depot this morning.")

        ack = await carol.call("receipt", {"message_ids": [message_id], "status": "delivered"})
        assert ack == {"ok": True, "changed": [message_id]}
        for tab in (alice, second_tab):
            told = await tab.next("message_details")
            assert told["interaction_id"] == iid and told["message_id"] == message_id
            assert told["chat"]["delivered_at"] is not None and told["chat"]["read_at"] is None
        delivered_at = told["chat"]["delivered_at"]

        ack = await carol.call("receipt", {"message_ids": [message_id], "status": "read"})
        assert ack == {"ok": True, "changed": [message_id]}
        for tab in (alice, second_tab):
            told = await tab.next("message_details")
            assert told["chat"]["delivered_at"] == delivered_at  # kept, not moved
            assert _at(told["chat"]["read_at"]) >= _at(delivered_at)
        read_at = told["chat"]["read_at"]

        # Stored: a reload of the console (hello) and of the chat box (session) show both.
        third_tab = await connect(
            running.base, "/agent", token=await running.sign_in("alice@example.com")
        )
        [work] = (await third_tab.next("hello"))["work"]
        [reply] = [m for m in work["messages"] if m["message_id"] == message_id]
        assert (reply["delivered_at"], reply["read_at"]) == (delivered_at, read_at)
        [customer_line] = [m for m in work["messages"] if m["direction"] == "in"]
        assert "delivered_at" not in customer_line
        await carol.close()
        carol, resumed = await visitor(running, session["token"])
        [seen] = [m for m in resumed["messages"] if m["message_id"] == message_id]
        assert (seen["delivered_at"], seen["read_at"]) == (delivered_at, read_at)
        stored = await running.hub.store.messages(work["conversation_id"])
        [row] = [m for m in stored if m.message_id == message_id]
        assert row.delivered_at is not None and row.read_at is not None
        for client in (alice, second_tab, third_tab, carol):
            await client.close()


async def test_receipts_are_idempotent_and_read_implies_delivered(tmp_path: Path) -> None:
    async with serve(settings_for(tmp_path)) as running:
        alice, carol, _, iid = await _chat(running)
        first = await _reply(alice, carol, iid, "Let me look.")
        second = await _reply(alice, carol, iid, "Found it.")

        # Read straight away (the box was open): delivered at the same moment.
        ack = await carol.call("receipt", {"message_ids": [first], "status": "read"})
        assert ack["changed"] == [first]
        told = await alice.next("message_details")
        assert told["chat"]["delivered_at"] == told["chat"]["read_at"] is not None

        # Delivered after read changes nothing; read again changes nothing; the same id twice
        # in one receipt counts once.
        again = await carol.call("receipt", {"message_ids": [first], "status": "delivered"})
        assert again == {"ok": True, "changed": []}
        again = await carol.call("receipt", {"message_ids": [first, first], "status": "read"})
        assert again == {"ok": True, "changed": []}
        both = await carol.call("receipt", {"message_ids": [first, second], "status": "read"})
        assert both["changed"] == [second]  # only the one that changed
        told = await alice.next("message_details")
        assert told["message_id"] == second
        # Nothing was announced for the receipts that changed nothing.
        assert alice.pending("message_details") == []
        await alice.close()
        await carol.close()


async def test_receipts_for_another_visitors_or_own_messages_are_refused_whole(
    tmp_path: Path,
) -> None:
    async with serve(settings_for(tmp_path)) as running:
        alice, carol, _, iid = await _chat(running)
        reply = await _reply(alice, carol, iid, "Hello Carol.")
        mallory, _ = await visitor(running)

        ack = await mallory.call("receipt", {"message_ids": [reply], "status": "read"})
        assert ack["error"]["code"] == "not_found", ack
        assert str(reply) in ack["error"]["message"]
        ack = await carol.call("receipt", {"message_ids": [reply, 999_999], "status": "read"})
        assert ack["error"]["code"] == "not_found", ack  # one bad id: nothing recorded

        conversation_id = (await running.hub.store.interaction(iid)).conversation_id
        stored = await running.hub.store.messages(conversation_id)
        [own] = [m for m in stored if m.direction == "in"]
        ack = await carol.call("receipt", {"message_ids": [own.message_id], "status": "read"})
        assert ack["error"]["code"] == "invalid_input"
        assert "only replies" in ack["error"]["message"]

        for bad in (
            {"message_ids": [reply], "status": "seen"},
            {"message_ids": [], "status": "read"},
            {"message_ids": [str(reply)], "status": "read"},
            {"message_ids": [True], "status": "read"},
            {"message_ids": list(range(1, 102)), "status": "read"},
            {"status": "read"},
            "read",
        ):
            ack = await carol.call("receipt", bad)
            assert ack["error"]["code"] == "invalid_input", (bad, ack)

        stored = await running.hub.store.messages(conversation_id)
        [row] = [m for m in stored if m.message_id == reply]
        assert row.delivered_at is None and row.read_at is None
        assert alice.pending("message_details") == []
        for client in (alice, carol, mallory):
            await client.close()


async def test_work_items_carry_the_queues_reply_target(tmp_path: Path) -> None:
    queues = "[{name: support, channels: [webchat], reply_target_s: {webchat: 5}}]"
    async with serve(settings_for(tmp_path, HUB_QUEUES=queues)) as running:
        alice, carol, _, iid = await _chat(running)
        await alice.close()
        again = await connect(
            running.base, "/agent", token=await running.sign_in("alice@example.com")
        )
        [work] = (await again.next("hello"))["work"]
        assert work["interaction_id"] == iid and work["reply_target_s"] == 5
        await again.close()
        await carol.close()
