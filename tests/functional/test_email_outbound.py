"""Agents' email replies through the durable outbox to a local relay (an aiosmtpd sink)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.functional.conftest import Running, free_port
from tests.functional.test_email_inbound import agent
from tests.functional.test_email_support import (
    email_settings,
    mail,
    reply,
    send,
    serve,
    sink_server,
)


async def answered_interaction(running: Running, settings: object) -> tuple[object, str, dict]:
    alice, token = await agent(running)
    await send(
        settings,  # type: ignore[arg-type]
        mail(message_id="q1@example.org", headers={"References": "<q0@example.org>"}),
    )
    offer = await alice.next("offer")
    assert (await alice.call("accept", {"interaction_id": offer["interaction_id"]}))["ok"]
    return alice, token, offer


async def thread_view(running: Running, token: str, interaction_id: int) -> dict:
    status, body = await running.get(f"/api/v1/interactions/{interaction_id}/email", token)
    assert status == 200, body
    return body


async def test_email_reply_reaches_relay_threaded_with_attachment(tmp_path: Path) -> None:
    async with sink_server() as sink:
        settings = email_settings(tmp_path, relay_port=sink.port)
        async with serve(settings) as running:
            alice, token, offer = await answered_interaction(running, settings)
            iid = offer["interaction_id"]
            status, body = await reply(
                running, token, iid, "Your parcel left today.", [("label.pdf", b"%PDF-1.4 x")]
            )
            assert status == 201, body
            await sink.wait(1)
            mail_from, rcpt, msg = sink.received[0]
            assert rcpt == ["carol@example.org"] and mail_from == "support@example.com"
            view = await thread_view(running, token, iid)
            thread_id = view["thread_id"]
            assert msg["From"].addresses[0].addr_spec == "support@example.com"
            assert msg["To"].addresses[0].addr_spec == "carol@example.org"
            assert msg["Subject"] == f"Re: My order #42 is late [#{thread_id}]"
            assert msg["In-Reply-To"] == "<q1@example.org>"
            assert msg["References"] == "<q0@example.org> <q1@example.org>"
            assert msg["Reply-To"].addresses[0].addr_spec == f"support+c{thread_id}@example.com"
            assert msg["Message-ID"].endswith("@hub.example.com>")
            text = msg.get_body(("plain",)).get_content()
            assert text.startswith("Your parcel left today.")
            assert "> Hello, my order #42 has not arrived." in text  # quoted history
            [attachment] = list(msg.iter_attachments())
            assert attachment.get_filename() == "label.pdf"
            assert attachment.get_content() == b"%PDF-1.4 x"
            for _ in range(50):  # the console sees the message as sent
                view = await thread_view(running, token, iid)
                if view["messages"][-1]["status"] == "sent":
                    break
                await asyncio.sleep(0.1)
            assert view["messages"][-1]["status"] == "sent"
            assert view["messages"][-1]["header_message_id"] == msg["Message-ID"].strip("<>")
            # only signed-in staff may download attachments
            url = view["messages"][-1]["attachments"][0]["url"]
            assert (await running.get(url))[0] == 401
            status, data = await running.get(url, token)
            assert status == 200 and data == "%PDF-1.4 x"
            await alice.close()  # type: ignore[attr-defined]


async def test_email_relay_down_retries_and_restart_sends_once(
    tmp_path: Path, database_url: str
) -> None:
    relay_port = free_port()  # nothing listens yet: the relay is down
    settings = email_settings(
        tmp_path, relay_port=relay_port, env={"HUB_DATABASE__URL": database_url}
    )
    async with serve(settings) as running:
        alice, token, offer = await answered_interaction(running, settings)
        iid = offer["interaction_id"]
        status, body = await reply(running, token, iid, "Sorry for the wait.")
        assert status == 201, body
        await asyncio.sleep(0.5)
        view = await thread_view(running, token, iid)
        last = view["messages"][-1]
        assert last["status"] == "queued" and "relay unreachable" in last["status_detail"]
        await alice.close()  # type: ignore[attr-defined]
    async with sink_server(relay_port) as sink:
        async with serve(settings) as running:  # a restart: the outbox survives it
            await sink.wait(1)
        async with serve(settings) as running:  # and another: nothing goes twice
            await asyncio.sleep(0.6)
            token = await running.sign_in("alice@example.com")
            view = await thread_view(running, token, iid)
        assert len(sink.received) == 1
        assert view["messages"][-1]["status"] == "sent"


async def test_email_temporary_refusal_retried_permanent_one_marked_failed(
    tmp_path: Path,
) -> None:
    async with sink_server() as sink:
        settings = email_settings(tmp_path, relay_port=sink.port)
        async with serve(settings) as running:
            alice, token, offer = await answered_interaction(running, settings)
            iid = offer["interaction_id"]
            sink.codes = ["451 4.3.0 greylisted, try later"]
            assert (await reply(running, token, iid, "first"))[0] == 201
            await sink.wait(1)
            assert sink.received[0][2].get_body(("plain",)).get_content().startswith("first")
            # The agent's console hears of each delivery status once it is stored.
            first = await alice.next("message")  # type: ignore[attr-defined]
            first_id = first["message"]["message_id"]
            retrying = await alice.next("message_details")  # type: ignore[attr-defined]
            assert retrying["message_id"] == first_id and retrying["interaction_id"] == iid
            assert retrying["email"]["status"] == "queued"
            assert "greylisted" in retrying["email"]["status_detail"]
            sent = await alice.next("message_details")  # type: ignore[attr-defined]
            assert sent["message_id"] == first_id
            assert sent["email"] == {"status": "sent", "status_detail": None}
            sink.codes = ["550 5.1.1 mailbox unavailable"]
            assert (await reply(running, token, iid, "second"))[0] == 201
            failed = await alice.wait_for(  # type: ignore[attr-defined]
                "message_details", lambda d: d["message_id"] != first_id
            )
            assert failed["email"]["status"] == "failed"
            assert "mailbox unavailable" in failed["email"]["status_detail"]
            for _ in range(50):
                last = (await thread_view(running, token, iid))["messages"][-1]
                if last["status"] == "failed":
                    break
                await asyncio.sleep(0.1)
            assert last["status"] == "failed"
            assert "550" in last["status_detail"] and "mailbox unavailable" in last["status_detail"]
            assert len(sink.received) == 1
            await alice.close()  # type: ignore[attr-defined]


async def test_email_bounce_of_our_reply_marks_it_failed_and_is_not_routed(
    tmp_path: Path,
) -> None:
    async with sink_server() as sink:
        settings = email_settings(tmp_path, relay_port=sink.port)
        async with serve(settings) as running:
            alice, token, offer = await answered_interaction(running, settings)
            iid = offer["interaction_id"]
            assert (await reply(running, token, iid, "hello"))[0] == 201
            await sink.wait(1)
            ours = sink.received[0][2]["Message-ID"]
            dsn = (
                "From: Mail Delivery System <MAILER-DAEMON@mx.example.org>\r\n"
                "To: support@example.com\r\n"
                "Subject: Undelivered Mail Returned to Sender\r\n"
                "Message-ID: <dsn1@mx.example.org>\r\n"
                "MIME-Version: 1.0\r\n"
                'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n'
                "\r\n--b\r\nContent-Type: text/plain\r\n\r\n"
                "Your message could not be delivered.\r\n"
                "--b\r\nContent-Type: message/delivery-status\r\n\r\n"
                "Reporting-MTA: dns; mx.example.org\r\n\r\n"
                "Final-Recipient: rfc822; carol@example.org\r\nAction: failed\r\n"
                "Status: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 no such user\r\n"
                "--b\r\nContent-Type: text/rfc822-headers\r\n\r\n"
                f"Message-ID: {ours}\r\nSubject: Re: x\r\n--b--\r\n"
            ).encode()
            await send(settings, dsn, from_addr="")
            view = await thread_view(running, token, iid)
            sent = [m for m in view["messages"] if m["direction"] == "out"][-1]
            assert sent["status"] == "failed" and "5.1.1" in sent["status_detail"]
            assert view["messages"][-1]["automated"] == "bounce"
            assert len(await running.hub.store.interactions()) == 1  # the bounce is not routed
            assert len(sink.received) == 1  # and never answered
            await alice.close()  # type: ignore[attr-defined]
