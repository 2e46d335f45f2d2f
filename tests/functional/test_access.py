"""Agents see their own customers and conversations, not their colleagues' (hub.access):
REST reads of customers, interaction lists, email threads and attachments, for an agent who
was offered or holds the conversation, another agent, and a supervisor."""

from __future__ import annotations

from pathlib import Path

from hub.model import Role
from tests.functional.conftest import Running, free_port
from tests.functional.test_email_inbound import agent
from tests.functional.test_email_support import email_settings, mail, send, serve


async def status(running: Running, path: str, token: str) -> int:
    return (await running.get(path, token))[0]


async def test_agents_read_only_what_is_offered_to_them_or_theirs(tmp_path: Path) -> None:
    settings = email_settings(tmp_path, relay_port=free_port())  # no relay: nothing is sent
    async with serve(settings) as running:
        alice, alice_token = await agent(running, "alice@example.com")
        msg = mail(message_id="a1@example.org")
        msg.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf", filename="x.pdf")
        await send(settings, msg)
        offer = await alice.next("offer")
        iid, cid = offer["interaction_id"], offer["customer"]["customer_id"]
        customer = f"/api/v1/customers/{cid}"
        thread = f"/api/v1/interactions/{iid}/email"
        # Offered, not yet accepted: the screen pop may show who it is.
        assert await status(running, customer, alice_token) == 200
        assert await status(running, thread, alice_token) == 200
        assert (await alice.call("accept", {"interaction_id": iid}))["ok"]

        await running.add_user("ben@example.com", "Ben Agent")
        ben_token = await running.sign_in("ben@example.com")
        await running.add_user("sue@example.com", "Sue Supervisor", Role.SUPERVISOR)
        sue_token = await running.sign_in("sue@example.com")

        _, view = await running.get(thread, alice_token)
        attachment = view["messages"][0]["attachments"][0]["url"]
        for path in (customer, thread, attachment):
            assert await status(running, path, alice_token) == 200, path
            assert await status(running, path, sue_token) == 200, path
            code, body = await running.get(path, ben_token)
            assert code == 403 and body["error"]["code"] == "forbidden", (path, body)

        def ids(body: dict) -> list[int]:
            return [r["interaction_id"] for r in body["interactions"]]

        assert ids((await running.get("/api/v1/interactions", alice_token))[1]) == [iid]
        assert ids((await running.get("/api/v1/interactions", sue_token))[1]) == [iid]
        assert ids((await running.get("/api/v1/interactions", ben_token))[1]) == []
        await alice.close()
