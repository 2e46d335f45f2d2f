"""Shared helpers for the email tests (no tests here): a hub with SMTP, a relay sink, smtplib."""

from __future__ import annotations

import asyncio
import contextlib
import smtplib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import aiohttp
from aiosmtpd.smtp import SMTP

from hub.config import Settings, load_settings
from tests.functional.backend import hub_database_url
from tests.functional.conftest import Running, csrf_headers, free_port, serve

CONFIG = """
queues:
  - name: support
    channels: [webchat, email]
    offer_timeout_s: 20
    wrap_up_s: {wrap_up_s}
email:
  domain: hub.example.com
  addresses: {{support@example.com: support}}
  max_message_bytes: {max_bytes}
  max_recipients: 3
  retry_initial_s: 0.2
  retry_max_s: 0.5
  max_attempts: {max_attempts}
  relay_timeout_s: 5
"""


def email_settings(
    tmp_path: Path,
    *,
    relay_port: int,
    wrap_up_s: float = 0,
    max_bytes: int = 200_000,
    max_attempts: int = 50,
    db: str = "hub.db",
    env: dict[str, str] | None = None,
) -> Settings:
    config = tmp_path / "config.yaml"
    config.write_text(
        CONFIG.format(wrap_up_s=wrap_up_s, max_bytes=max_bytes, max_attempts=max_attempts)
    )
    environ = {
        "HUB_DATABASE__URL": hub_database_url(tmp_path, db),
        "HUB_HTTP__PORT": str(free_port()),
        "HUB_SECURITY__SECRET_KEY": "test-secret-key-not-for-production",
        "HUB_EMAIL__SMTP_PORT": str(free_port()),
        "HUB_EMAIL__RELAY_PORT": str(relay_port),
    }
    environ.update(env or {})
    return load_settings(config, environ)


@dataclass
class Sink:
    """A local relay: keeps every message it accepts; ``codes`` answers DATA in turn."""

    port: int
    received: list[tuple[str, list[str], EmailMessage]] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    need_auth: bool = False
    hold: asyncio.Event | None = None  # when set, DATA is answered only once it is released

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.hold is not None:
            await self.hold.wait()
        if self.need_auth and not session.authenticated:
            return "530 5.7.0 Authentication required"
        if self.codes:
            return self.codes.pop(0)
        msg = BytesParser(policy=policy.default).parsebytes(envelope.content)
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), msg))  # type: ignore[arg-type]
        self.arrived.set()
        return "250 OK"

    async def wait(self, count: int, timeout: float = 10) -> None:
        async with asyncio.timeout(timeout):
            while len(self.received) < count:
                self.arrived.clear()
                await self.arrived.wait()


@contextlib.asynccontextmanager
async def sink_server(port: int | None = None, *, authenticator: Any = None) -> AsyncIterator[Sink]:
    """A relay on loopback; with an ``authenticator`` it takes mail only after AUTH (offered
    without TLS, as this is loopback; aiosmtpd's own ``auth_required`` would warn about that)."""
    sink = Sink(port or free_port(), need_auth=authenticator is not None)
    loop = asyncio.get_running_loop()
    auth: dict[str, Any] = {}
    if authenticator is not None:
        auth = {"authenticator": authenticator, "auth_require_tls": False}
    server = await loop.create_server(
        lambda: SMTP(sink, hostname="relay.test", loop=loop, **auth), "127.0.0.1", sink.port
    )
    try:
        yield sink
    finally:
        server.close()
        await server.wait_closed()


def mail(
    *,
    sender: str = "Carol Customer <carol@example.org>",
    to: str = "support@example.com",
    subject: str = "My order #42 is late",
    body: str = "Hello, my order #42 has not arrived.",
    message_id: str | None = None,
    headers: dict[str, str] | None = None,
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    if message_id:
        msg["Message-ID"] = f"<{message_id}>"
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    return msg


def _send(port: int, msg: EmailMessage | bytes, from_addr: str, to_addrs: list[str]) -> Any:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        if isinstance(msg, bytes):
            return client.sendmail(from_addr, to_addrs, msg)
        return client.send_message(msg, from_addr=from_addr, to_addrs=to_addrs)


async def send(
    settings: Settings,
    msg: EmailMessage | bytes,
    *,
    from_addr: str = "carol@example.org",
    to_addrs: list[str] | None = None,
) -> Any:
    """Send with the standard library's smtplib (in a thread: the hub runs in this loop)."""
    rcpt = to_addrs or ["support@example.com"]
    return await asyncio.to_thread(_send, settings.email.smtp_port, msg, from_addr, rcpt)


async def reply(
    running: Running,
    token: str,
    interaction_id: int,
    body: str,
    files: list[tuple[str, bytes]] = (),  # type: ignore[assignment]
) -> tuple[int, Any]:
    form = aiohttp.FormData(default_to_multipart=True)
    form.add_field("body", body)
    for name, data in files:
        form.add_field("attachment", data, filename=name, content_type="application/pdf")
    async with aiohttp.ClientSession(cookies={"hub_session": token}) as http:
        resp = await http.post(
            f"{running.base}/api/v1/interactions/{interaction_id}/email/reply",
            data=form,
            headers=csrf_headers(running.base, token),
        )
        return resp.status, await resp.json()


__all__ = ["email_settings", "mail", "reply", "send", "serve", "sink_server"]
