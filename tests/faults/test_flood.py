"""A visitor who floods the chat is slowed down, and nobody else is; so is an address that
floods it as ever new visitors (dropping the token each time)."""

from __future__ import annotations

from pathlib import Path

from tests.functional.conftest import connect, connect_refused, serve, settings_for


async def test_a_flooding_visitor_is_rate_limited_and_nothing_of_the_flood_is_stored(
    tmp_path: Path,
) -> None:
    settings = settings_for(
        tmp_path, HUB_WEBCHAT__MESSAGES_PER_MINUTE="6", HUB_WEBCHAT__MESSAGE_BURST="3"
    )
    async with serve(settings) as running:
        flooder = await connect(running.base, "/chat", auth={})
        session = await flooder.next("session")
        acks = [await flooder.call("message", {"body": f"spam {i}"}) for i in range(20)]
        assert [a.get("ok") for a in acks[:3]] == [True] * 3
        for ack in acks[3:]:
            assert ack["error"]["code"] == "rate_limited", ack
            assert 0 < ack["error"]["retry_after_s"] <= 10
        profile = await flooder.call("profile", {"name": "Spammer"})
        assert profile["error"]["code"] == "rate_limited"

        # A reconnect with the same token is the same visitor: still limited.
        again = await connect(running.base, "/chat", auth={"token": session["token"]})
        await again.next("session")
        assert (await again.call("message", {"body": "spam again"}))["error"]["code"] == (
            "rate_limited"
        )
        other = await connect(running.base, "/chat", auth={})
        await other.next("session")
        assert (await other.call("message", {"body": "hello, I need help"}))["ok"]

        stored = await running.hub.store.conversation(acks[0]["conversation_id"])
        record = await running.hub.store.customer(stored.customer_id)
        bodies = [m.body for i in record.interactions for m in i.messages]
        assert sorted(bodies) == ["spam 0", "spam 1", "spam 2"]
        for client in (flooder, again, other):
            await client.close()


async def test_an_address_opening_ever_new_visitors_is_rate_limited(tmp_path: Path) -> None:
    settings = settings_for(
        tmp_path,
        HUB_WEBCHAT__CONNECTIONS_PER_MINUTE_PER_ADDRESS="4",
        HUB_WEBCHAT__MESSAGES_PER_MINUTE_PER_ADDRESS="3",
    )
    async with serve(settings) as running:
        # Messages: each fresh visitor has a full per-visitor allowance, the address does not.
        visitors = [await connect(running.base, "/chat", auth={}) for _ in range(4)]
        sessions = [await v.next("session") for v in visitors]
        assert len({s["visitor_id"] for s in sessions}) == 4
        acks = [await v.call("message", {"body": f"spam {n}"}) for n, v in enumerate(visitors)]
        assert [a.get("ok") for a in acks[:3]] == [True] * 3
        assert acks[3]["error"]["code"] == "rate_limited", acks[3]
        assert 0 < acks[3]["error"]["retry_after_s"] <= 20

        # Connections: the fifth new connection from this address is refused, with the code.
        error = (await connect_refused(running.base, "/chat", {}, {}))["data"]
        assert error["code"] == "rate_limited", error
        assert 0 < error["retry_after_s"] <= 15
        assert "too many chat connections" in error["message"]
        # A reconnect with a good token is a connection too: refused alike.
        token = {"token": sessions[0]["token"]}
        error = (await connect_refused(running.base, "/chat", {}, token))["data"]
        assert error["code"] == "rate_limited", error
        for client in visitors:
            await client.close()
