"""The inbound SMTP server as a sending mail server sees it: STARTTLS, connection limit, retries."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from pathlib import Path

import pytest
import trustme

from hub.config import Settings
from tests.functional.test_email_inbound import email_interactions
from tests.functional.test_email_support import email_settings, mail, send, serve, sink_server


def tls_settings(tmp_path: Path, ca: trustme.CA, relay_port: int) -> Settings:
    """The hub with a certificate for 127.0.0.1 issued by a throwaway CA."""
    cert = ca.issue_cert("127.0.0.1", "localhost")
    cert_path, key_path = tmp_path / "smtp.crt", tmp_path / "smtp.key"
    cert.private_key_and_cert_chain_pem.write_to_path(str(cert_path))
    cert.private_key_pem.write_to_path(str(key_path))
    return email_settings(
        tmp_path,
        relay_port=relay_port,
        env={"HUB_EMAIL__TLS_CERT": str(cert_path), "HUB_EMAIL__TLS_KEY": str(key_path)},
    )


def _send_over_tls(port: int, context: ssl.SSLContext, body: str) -> tuple[str, str]:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.ehlo()
        assert client.has_extn("starttls")
        code, _ = client.starttls(context=context)
        assert code == 220
        cipher = client.sock.cipher()  # type: ignore[union-attr]
        client.ehlo()  # RFC 3207: the client starts afresh after the handshake
        assert not client.has_extn("starttls")  # and is not offered it twice
        client.send_message(mail(body=body), "carol@example.org", ["support@example.com"])
        return cipher[1], client.sock.version()  # type: ignore[union-attr,return-value]


def _send_plain(port: int, body: str) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.send_message(mail(body=body), "carol@example.org", ["support@example.com"])


async def test_email_starttls_delivers_and_plain_delivery_still_accepted(tmp_path: Path) -> None:
    ca = trustme.CA()
    async with sink_server() as sink:
        settings = tls_settings(tmp_path, ca, sink.port)
        async with serve(settings) as running:
            context = ssl.create_default_context()
            ca.configure_trust(context)
            port = settings.email.smtp_port
            protocol, version = await asyncio.to_thread(_send_over_tls, port, context, "secret")
            assert version in ("TLSv1.2", "TLSv1.3"), (protocol, version)
            [first] = await email_interactions(running)
            messages = await running.hub.store.messages(first["conversation_id"])
            assert [m.body.strip() for m in messages] == ["secret"]
            # A public MX must not insist on TLS (RFC 3207, section 4): a sender without it
            # still delivers.
            await asyncio.to_thread(_send_plain, port, "in the clear")
            found = await email_interactions(running)
            assert len(found) == 2 and {f["customer_id"] for f in found} == {first["customer_id"]}


def _connect(port: int) -> smtplib.SMTP:
    client = smtplib.SMTP("127.0.0.1", port, timeout=10)
    assert client.noop()[0] == 250  # being served, not just accepted by the kernel
    return client


def _deliver_and_quit(client: smtplib.SMTP, body: str) -> None:
    client.send_message(mail(body=body), "carol@example.org", ["support@example.com"])
    client.quit()


async def test_email_connection_limit_421_then_a_freed_slot_is_used(tmp_path: Path) -> None:
    async with sink_server() as sink:
        settings = email_settings(
            tmp_path, relay_port=sink.port, env={"HUB_EMAIL__MAX_CONNECTIONS": "2"}
        )
        port = settings.email.smtp_port
        async with serve(settings) as running:
            held = [await asyncio.to_thread(_connect, port) for _ in range(2)]
            with pytest.raises(smtplib.SMTPConnectError) as refused:
                await asyncio.to_thread(_connect, port)
            assert refused.value.smtp_code == 421
            await asyncio.to_thread(held.pop().quit)

            async def next_slot() -> smtplib.SMTP:
                # the slot is free once the server has seen the client go
                async with asyncio.timeout(5):
                    while True:
                        try:
                            return await asyncio.to_thread(_connect, port)
                        except smtplib.SMTPConnectError:
                            await asyncio.sleep(0.05)

            late = await next_slot()
            await asyncio.to_thread(_deliver_and_quit, late, "took a freed slot")
            assert len(await email_interactions(running)) == 1
            for client in held:
                await asyncio.to_thread(client.quit)


async def test_email_retry_after_lost_250_is_stored_once_other_senders_never_dropped(
    tmp_path: Path, database_url: str
) -> None:
    async with sink_server() as sink:
        settings = email_settings(
            tmp_path, relay_port=sink.port, env={"HUB_DATABASE__URL": database_url}
        )
        async with serve(settings) as running:
            original = mail(message_id="once@example.org", body="where is my parcel?")
            await send(settings, original)
            # The sender never saw our 250 (a timeout, a dropped link) and sends it again:
            # 250 again (no exception from smtplib), and nothing new is stored or routed.
            assert await send(settings, original) == {}
            [first] = await email_interactions(running)
            store = running.hub.store
            assert [m.body.strip() for m in await store.messages(first["conversation_id"])] == [
                "where is my parcel?"
            ]
            # The same id from another customer is their mail, never a duplicate of Carol's.
            await send(
                settings,
                mail(sender="Dave <dave@example.net>", message_id="once@example.org"),
                from_addr="dave@example.net",
            )
            # Nor is a different mail from Carol that reuses the id (a broken client).
            await send(settings, mail(message_id="once@example.org", body="another question"))
            found = await email_interactions(running)
            assert len(found) == 3
            assert len({f["customer_id"] for f in found}) == 2


async def test_email_nul_in_a_body_is_stored_not_deferred_for_ever(
    tmp_path: Path, database_url: str
) -> None:
    # PostgreSQL text cannot hold NUL: before the parser dropped it, such a mail got 451 on
    # every retry there (and was stored on SQLite).
    async with sink_server() as sink:
        settings = email_settings(
            tmp_path, relay_port=sink.port, env={"HUB_DATABASE__URL": database_url}
        )
        async with serve(settings) as running:
            raw = (
                b"From: Carol <carol@example.org>\r\nTo: support@example.com\r\n"
                b"Subject: nul\r\nMessage-ID: <nul@example.org>\r\n\r\nbody \x00with nul\r\n"
            )
            assert await send(settings, raw) == {}
            [found] = await email_interactions(running)
            [message] = await running.hub.store.messages(found["conversation_id"])
            assert message.body == "body with nul"
