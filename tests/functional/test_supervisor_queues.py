"""A supervisor limited to some queues (``agents[].supervises``) sees and acts only on those
queues and the agents serving them: wallboard, floor actions, reports, CSV, lists, and the
customers, email threads and attachments behind those queues' interactions. A
supervisor without a list, and an admin, see every queue."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from hub.config import Settings, load_settings
from hub.model import Role
from tests.functional.backend import hub_database_url
from tests.functional.conftest import Client, Running, connect, free_port, serve
from tests.functional.test_email_support import mail, send

CONFIG = """
queues:
  - {name: support, channels: [webchat, email], requires: "support >= 1", wrap_up_s: 0}
  - {name: sales, channels: [email], requires: "sales >= 1", wrap_up_s: 0}
agents:
  - {email: alice@example.com, skills: {support: 1}}
  - {email: ben@example.com, skills: {sales: 1}}
  - {email: sue@example.com, supervises: [sales]}
email:
  domain: hub.example.com
  addresses: {support@example.com: support, sales@example.com: sales}
"""


def settings_for(tmp_path: Path) -> Settings:
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG)
    return load_settings(
        config,
        {
            "HUB_DATABASE__URL": hub_database_url(tmp_path),
            "HUB_HTTP__PORT": str(free_port()),
            "HUB_SECURITY__SECRET_KEY": "test-secret-key-not-for-production",
            "HUB_EMAIL__SMTP_PORT": str(free_port()),
            "HUB_EMAIL__RELAY_PORT": str(free_port()),
        },
    )


async def agent_taking(running: Running, email: str, name: str) -> tuple[int, Client]:
    agent_id = await running.add_user(email, name)
    client = await connect(running.base, "/agent", token=await running.sign_in(email))
    await client.next("hello")
    assert (await client.call("set_state", {"state": "available"}))["ok"]
    return agent_id, client


async def supervisor(running: Running, email: str, role: Role = Role.SUPERVISOR) -> tuple:
    await running.add_user(email, email.split("@")[0].title(), role)
    token = await running.sign_in(email)
    client = await connect(running.base, "/supervisor", token=token)
    return token, client, await client.next("hello")


async def test_supervisor_limited_to_their_queues(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    async with serve(settings) as running:
        alice_id, alice = await agent_taking(running, "alice@example.com", "Alice")
        ben_id, ben = await agent_taking(running, "ben@example.com", "Ben")
        support_mail = mail(to="support@example.com", message_id="s1@example.org")
        support_mail.add_attachment(
            b"%PDF-1.4", maintype="application", subtype="pdf", filename="invoice.pdf"
        )
        await send(settings, support_mail)
        await send(
            settings,
            mail(
                sender="Dan Buyer <dan@example.net>",
                to="sales@example.com",
                subject="A quote for 40 chairs",
                message_id="b1@example.net",
            ),
            from_addr="dan@example.net",
            to_addrs=["sales@example.com"],
        )
        support_offer, sales_offer = await alice.next("offer"), await ben.next("offer")
        support_iid, sales_iid = support_offer["interaction_id"], sales_offer["interaction_id"]
        carol_id = support_offer["customer"]["customer_id"]
        dan_id = sales_offer["customer"]["customer_id"]
        assert (await alice.call("accept", {"interaction_id": support_iid}))["ok"]
        assert (await ben.call("accept", {"interaction_id": sales_iid}))["ok"]

        sue_token, sue, hello = await supervisor(running, "sue@example.com")
        assert list(hello["queues"]) == ["sales"]
        snapshot = await sue.next("snapshot")
        assert [q["name"] for q in snapshot["queues"]] == ["sales"]
        assert [a["agent_id"] for a in snapshot["agents"]] == [ben_id]
        assert list((await sue.next("day"))["queues"]) == ["sales"]

        # Floor actions: only her queue's interactions and the agents serving it.
        current = (await sue.call("current_interactions", {}))["interactions"]
        assert [i["interaction_id"] for i in current] == [sales_iid]
        for event, data in (
            ("watch", {"interaction_id": support_iid}),
            ("whisper", {"interaction_id": support_iid, "body": "psst"}),
            ("move_interaction", {"interaction_id": support_iid, "queue": "sales"}),
            ("call_monitor", {"interaction_id": support_iid, "mode": "listen"}),
            ("set_agent_state", {"agent_id": alice_id, "state": "away"}),
            ("log_out_agent", {"agent_id": alice_id}),
        ):
            ack = await sue.call(event, data)
            assert ack["error"]["code"] == "forbidden", (event, ack)
        assert (await sue.call("watch", {"interaction_id": sales_iid}))["ok"]
        whisper = await sue.call("whisper", {"interaction_id": sales_iid, "body": "well done"})
        assert whisper["ok"], whisper
        state = await sue.call("set_agent_state", {"agent_id": ben_id, "state": "away"})
        assert state["ok"], state

        # Reports, CSV, queue statistics and lists over REST.
        _, today = await running.get("/api/v1/reports/today", sue_token)
        assert list(today["queues"]) == ["sales"]
        _, text = await running.get("/api/v1/reports/interactions.csv", sue_token)
        rows = list(csv.DictReader(io.StringIO(text)))
        assert [r["queue"] for r in rows] == ["sales"]
        assert (await running.get("/api/v1/queues/support/stats", sue_token))[0] == 403
        assert (await running.get("/api/v1/queues/sales/stats", sue_token))[0] == 200
        _, listing = await running.get("/api/v1/interactions", sue_token)
        assert [i["interaction_id"] for i in listing["interactions"]] == [sales_iid]
        _, agents = await running.get("/api/v1/agents", sue_token)
        assert [a["agent_id"] for a in agents["agents"]] == [ben_id]

        # Customers, email threads and attachments: only through her queue's interactions.
        alice_token = await running.sign_in("alice@example.com")
        path = f"/api/v1/interactions/{support_iid}/email"
        _, support_thread = await running.get(path, alice_token)
        attachment = support_thread["messages"][0]["attachments"][0]["url"]
        for path in (
            f"/api/v1/customers/{carol_id}",
            f"/api/v1/interactions/{support_iid}/email",
            attachment,
        ):
            status, body = await running.get(path, sue_token)
            assert (status, body["error"]["code"]) == (403, "forbidden"), path
        status, body = await running.send(
            "PATCH", f"/api/v1/customers/{carol_id}", sue_token, json={"company": "Sue's"}
        )
        assert (status, body["error"]["code"]) == (403, "forbidden")
        status, dan = await running.get(f"/api/v1/customers/{dan_id}", sue_token)
        assert status == 200 and dan["customer_id"] == dan_id
        status, thread = await running.get(f"/api/v1/interactions/{sales_iid}/email", sue_token)
        assert status == 200 and thread["subject"] == "A quote for 40 chairs"

        # A supervisor without a list, and an admin, see every queue.
        for email, role in (("sam@example.com", Role.SUPERVISOR), ("ada@example.com", Role.ADMIN)):
            token, client, hello = await supervisor(running, email, role)
            assert sorted(hello["queues"]) == ["sales", "support"]
            snapshot = await client.next("snapshot")
            assert sorted(q["name"] for q in snapshot["queues"]) == ["sales", "support"]
            _, today = await running.get("/api/v1/reports/today", token)
            assert sorted(today["queues"]) == ["sales", "support"]
            _, listing = await running.get("/api/v1/interactions", token)
            assert len(listing["interactions"]) == 2
            watch = await client.call("watch", {"interaction_id": support_iid})
            assert watch["ok"], watch
            assert (await running.get(f"/api/v1/customers/{carol_id}", token))[0] == 200
            assert (await running.get(attachment, token))[0] == 200
            await client.close()
        for client in (sue, alice, ben):
            await client.close()


def test_supervises_must_name_configured_queues(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG.replace("supervises: [sales]", "supervises: [salse]"))
    try:
        load_settings(config, {"HUB_DATABASE__URL": hub_database_url(tmp_path)})
    except Exception as exc:
        assert "supervises: not a queue: salse" in str(exc)
    else:
        raise AssertionError("a misspelt queue in supervises was accepted")
