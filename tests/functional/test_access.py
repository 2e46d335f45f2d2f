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


async def test_an_agent_links_their_conversation_to_a_customer_found_by_search(
    tmp_path: Path,
) -> None:
    """The customer panel's "link": an agent merges the customer they work with into one
    they found by search; nobody else's customer, and not the other way round."""
    settings = email_settings(tmp_path, relay_port=free_port())
    async with serve(settings) as running:
        alice, alice_token = await agent(running, "alice@example.com")
        await send(settings, mail(message_id="link@example.org"))
        offer = await alice.next("offer")
        iid, cid = offer["interaction_id"], offer["customer"]["customer_id"]
        assert (await alice.call("accept", {"interaction_id": iid}))["ok"]
        await running.add_user("ben@example.com", "Ben Agent")
        ben_token = await running.sign_in("ben@example.com")
        await running.add_user("ada@example.com", "Ada Admin", Role.ADMIN)
        ada_token = await running.sign_in("ada@example.com")
        known = {"name": "Known Customer", "identities": [{"kind": "email", "value": "k@x.org"}]}
        code, made = await running.send("POST", "/api/v1/customers", ada_token, json=known)
        assert code == 201, made
        keep = made["customer"]["customer_id"]

        _, found = await running.get("/api/v1/customers?q=k%40x.org", alice_token)
        assert [c["customer_id"] for c in found["customers"]] == [keep]
        assert await status(running, f"/api/v1/customers/{keep}", alice_token) == 403
        # Ben works with neither; Alice may not fold the found customer into hers.
        refusals = [
            (ben_token, keep, cid),
            (alice_token, cid, keep),
        ]
        for token, survivor, merged in refusals:
            code, body = await running.send(
                "POST",
                f"/api/v1/customers/{survivor}/merge",
                token,
                json={"from_customer_id": merged},
            )
            assert code == 403 and body["error"]["code"] == "forbidden", body
        assert await status(running, f"/api/v1/customers/{cid}", ada_token) == 200

        code, body = await running.send(
            "POST", f"/api/v1/customers/{keep}/merge", alice_token, json={"from_customer_id": cid}
        )
        assert code == 200, body
        assert body["merge"]["moved"]["interactions"] == [iid]
        code, record = await running.get(f"/api/v1/customers/{keep}", alice_token)
        assert code == 200, record
        assert [i["interaction_id"] for i in record["interactions"]] == [iid]
        assert await status(running, f"/api/v1/customers/{cid}", ada_token) == 404
        _, audit = await running.get("/api/v1/admin/audit?action=customer.merged", ada_token)
        (entry,) = audit["entries"]
        assert entry["actor"]["name"] == "alice@example.com"
        assert entry["details"]["from_customer_id"] == cid
        await alice.close()
