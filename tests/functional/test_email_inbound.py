"""Mail sent with smtplib to the running hub: customers, interactions, threading, refusals."""

from __future__ import annotations

import smtplib
from pathlib import Path

import pytest

from hub.model import Channel
from hub.storage.sql import make_engine
from tests.functional.conftest import Client, Running, connect
from tests.functional.test_email_support import (
    email_settings,
    mail,
    reply,
    send,
    serve,
    sink_server,
)


async def agent(running: Running, email: str = "alice@example.com") -> tuple[Client, str]:
    await running.add_user(email, "Alice Agent")
    token = await running.sign_in(email)
    client = await connect(running.base, "/agent", token=token)
    await client.next("hello")
    ack = await client.call("set_state", {"state": "available"})
    assert ack["ok"], ack
    return client, token


async def email_interactions(running: Running) -> list[dict]:
    records = await running.hub.store.interactions(channel=Channel.EMAIL)
    return [
        {
            "interaction_id": r.interaction.interaction_id,
            "conversation_id": r.interaction.conversation_id,
            "customer_id": r.interaction.customer_id,
            "state": r.interaction.state.value,
        }
        for r in records
    ]


async def test_email_new_mail_creates_customer_and_offers_interaction(
    tmp_path: Path, database_url: str
) -> None:
    async with sink_server() as sink:
        settings = email_settings(
            tmp_path, relay_port=sink.port, env={"HUB_DATABASE__URL": database_url}
        )
        async with serve(settings) as running:
            alice, _ = await agent(running)
            await send(settings, mail(message_id="first@example.org"))
            offer = await alice.next("offer")
            assert offer["channel"] == "email" and offer["queue"] == "support"
            assert offer["customer"]["name"] == "Carol Customer"
            assert offer["preview"].startswith("Hello, my order #42")
            record = await running.hub.store.customer(offer["customer"]["customer_id"])
            assert [i.value for i in record.customer.identities] == ["carol@example.org"]
            await alice.close()


async def test_email_threading_by_reply_id_references_token_never_subject(
    tmp_path: Path, database_url: str
) -> None:
    async with sink_server() as sink:
        settings = email_settings(
            tmp_path, relay_port=sink.port, env={"HUB_DATABASE__URL": database_url}
        )
        async with serve(settings) as running:
            alice, token = await agent(running)
            await send(settings, mail(message_id="m1@example.org"))
            offer = await alice.next("offer")
            iid = offer["interaction_id"]
            ack = await alice.call("accept", {"interaction_id": iid})
            assert ack["ok"], ack
            status, body = await reply(running, token, iid, "We are on it, Carol.")
            assert status == 201, body
            await sink.wait(1)
            ours = sink.received[0][2]
            our_id = ours["Message-ID"].strip("<>")
            thread_to = str(ours["Reply-To"].addresses[0].addr_spec)
            conversation_id = offer["conversation_id"]

            async def joined(kind: str) -> None:
                msg = await alice.wait_for("message", lambda d: d["message"]["body"] == kind)
                assert msg["interaction_id"] == iid, kind

            # In-Reply-To only (plain address, subject without tag)
            await send(
                settings,
                mail(subject="about that", body="irt", headers={"In-Reply-To": f"<{our_id}>"}),
            )
            await joined("irt")
            # References only
            await send(
                settings,
                mail(
                    subject="again",
                    body="refs",
                    headers={"References": f"<unknown@x> <{our_id}>"},
                ),
            )
            await joined("refs")
            # Only the token, in the address the reply went to
            await send(
                settings, mail(to=thread_to, subject="new words", body="tok"), to_addrs=[thread_to]
            )
            await joined("tok")
            # The same subject from somebody else is a new conversation of a new customer
            await send(
                settings,
                mail(sender="Dave <dave@example.net>", body="same subject"),
                from_addr="dave@example.net",
            )
            # A reply id that belongs to Carol's thread does not pull Dave's mail into it
            await send(
                settings,
                mail(
                    sender="dave@example.net",
                    body="dave irt",
                    headers={"In-Reply-To": f"<{our_id}>"},
                ),
                from_addr="dave@example.net",
            )
            found = await email_interactions(running)
            convs = {f["conversation_id"] for f in found}
            assert len(found) == 3 and conversation_id in convs
            daves = [f for f in found if f["conversation_id"] != conversation_id]
            assert len({d["customer_id"] for d in daves}) == 1
            assert daves[0]["customer_id"] != offer["customer"]["customer_id"]
            carol_messages = await running.hub.store.messages(conversation_id)
            assert [m.body for m in carol_messages][-3:] == ["irt", "refs", "tok"]
            await alice.close()


async def test_email_auto_replies_are_recorded_not_routed(tmp_path: Path) -> None:
    async with sink_server() as sink:
        settings = email_settings(tmp_path, relay_port=sink.port)
        async with serve(settings) as running:
            for headers in (
                {"Auto-Submitted": "auto-replied"},
                {"Precedence": "bulk"},
                {"X-Autoreply": "yes"},
                {"X-Autorespond": "on"},
            ):
                await send(settings, mail(body=f"away {headers}", headers=headers))
            assert await email_interactions(running) == []
            customer_id = await running.hub.store.customer_by_identity(
                __import__("hub.model", fromlist=["Identity"]).Identity(
                    __import__("hub.model", fromlist=["IdentityKind"]).IdentityKind.EMAIL,
                    "carol@example.org",
                )
            )
            assert customer_id is not None  # recorded against the customer
            assert sink.received == []  # never answered automatically


async def test_email_refusals_unknown_recipient_550_oversize_552(tmp_path: Path) -> None:
    async with sink_server() as sink:
        settings = email_settings(tmp_path, relay_port=sink.port, max_bytes=4096)
        async with serve(settings) as running:
            with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
                await send(settings, mail(to="sales@example.com"), to_addrs=["sales@example.com"])
            assert refused.value.recipients["sales@example.com"][0] == 550
            with pytest.raises(smtplib.SMTPException) as big:
                await send(settings, mail(body="x" * 10_000))
            assert getattr(big.value, "smtp_code", None) == 552
            assert await email_interactions(running) == []


async def test_email_database_down_451_then_accepted_on_retry(tmp_path: Path) -> None:
    async with sink_server() as sink:
        settings = email_settings(tmp_path, relay_port=sink.port)
        async with serve(settings) as running:
            store = running.hub.store
            good = store.engine
            store.engine = make_engine(f"sqlite+aiosqlite:///{tmp_path}/missing/dir/hub.db")
            try:
                with pytest.raises(smtplib.SMTPDataError) as deferred:
                    await send(settings, mail(message_id="retry@example.org"))
                assert deferred.value.smtp_code == 451
            finally:
                await store.engine.dispose()
                store.engine = good
            assert await email_interactions(running) == []
            await send(settings, mail(message_id="retry@example.org"))  # the sender's retry
            assert len(await email_interactions(running)) == 1


async def test_email_follow_up_after_close_reopens_for_last_agent(tmp_path: Path) -> None:
    async with sink_server() as sink:
        settings = email_settings(tmp_path, relay_port=sink.port)
        async with serve(settings) as running:
            alice, _ = await agent(running, "alice@example.com")
            bob, _ = await agent(running, "bob@example.com")
            await send(settings, mail(message_id="c1@example.org"))
            first = await alice.next("offer")  # alice has waited longest
            assert (await alice.call("accept", {"interaction_id": first["interaction_id"]}))["ok"]
            assert (await alice.call("close", {"interaction_id": first["interaction_id"]}))["ok"]
            await alice.wait_for(
                "interaction_updated", lambda d: d.get("state") == "ended", timeout=5
            )
            # bob is now idle longest, yet the customer's follow-up goes to alice first
            await send(
                settings, mail(body="one more thing", headers={"In-Reply-To": "<c1@example.org>"})
            )
            again = await alice.next("offer")
            assert again["interaction_id"] != first["interaction_id"]
            assert again["customer"]["customer_id"] == first["customer"]["customer_id"]
            assert bob.pending("offer") == []
            view = await running.hub.store.mail_thread(again["conversation_id"])
            assert [m.message.body for m in view.messages][-1] == "one more thing"
            assert len(view.messages) == 2  # one thread across both conversations
            rcpts = [f"support+x{i}@example.com" for i in range(5)]
            refused = await send(settings, mail(), to_addrs=rcpts)  # max_recipients is 3
            assert sorted(refused) == rcpts[3:]
            assert {code for code, _ in refused.values()} == {452}
            await alice.close()
            await bob.close()
