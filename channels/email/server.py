"""Inbound SMTP: an aiosmtpd server served on the hub's own event loop (no thread).

Only the configured inbound addresses (and their ``+token`` forms) are accepted; any other
recipient gets 550. The server answers 250 to DATA only after the message, its customer,
conversation and interaction are committed; when the database is unavailable (or anything
else fails) it answers 451, so the sending server keeps the mail and retries: an accepted
mail is never lost. SIZE is announced and enforced (552) by aiosmtpd's ``data_size_limit``.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from channels.email.parse import (
    ParsedMail,
    normalise_address,
    parse_mail,
    sender_name,
    split_plus,
    thread_tokens,
)
from hub.errors import Unavailable
from hub.inbound import Inbound
from hub.model import Channel, Identity, IdentityKind
from hub.ports import InboundContact, MailAttachment, MailDetails

log = logging.getLogger(__name__)

PARSE_IN_THREAD_BYTES = 256 * 1024  # bigger messages are parsed off the event loop
UNKNOWN_SENDER = "unknown-sender@invalid"


@dataclass(frozen=True, slots=True)
class SmtpLimits:
    max_message_bytes: int
    max_recipients: int
    max_connections: int
    max_attachment_bytes: int


class MailHandler:
    """aiosmtpd handler hooks: translate SMTP into ``Inbound.receive_mail``, and back."""

    def __init__(
        self,
        *,
        inbound: Inbound,
        addresses: Mapping[str, str],
        limits: SmtpLimits,
        domain: str,
    ) -> None:
        self._inbound = inbound
        self._addresses = dict(addresses)
        self._limits = limits
        self._domain = domain

    def mailbox_of(self, address: str) -> str | None:
        """Our inbound address that ``address`` (perhaps ``support+c12@...``) reaches."""
        base, _ = split_plus(normalise_address(address))
        return base if base in self._addresses else None

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if self.mailbox_of(address) is None:
            return f"550 5.1.1 <{address[:100]}>: no such mailbox here"
        if len(envelope.rcpt_tos) >= self._limits.max_recipients:
            return f"452 4.5.3 Too many recipients (at most {self._limits.max_recipients})"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        envelope_from = envelope.mail_from if envelope.mail_from not in (None, "<>") else ""
        try:
            if len(raw) > PARSE_IN_THREAD_BYTES:
                parsed = await asyncio.to_thread(self._parse, raw, envelope_from)
            else:
                parsed = self._parse(raw, envelope_from)
            recorded = await self._receive(parsed, list(envelope.rcpt_tos), envelope_from)
        except Unavailable:
            log.warning("inbound mail deferred: the database is unavailable (451)")
            return "451 4.3.0 Temporary failure storing the message; try again later"
        except Exception:
            log.exception("inbound mail deferred: could not be stored (451)")
            return "451 4.3.0 Temporary failure storing the message; try again later"
        if recorded.duplicate:
            return "250 2.0.0 OK: message already accepted"
        interaction = recorded.recorded.interaction if recorded.recorded else None
        log.info(
            "inbound mail %s stored (interaction_id=%s)",
            parsed.message_id,
            interaction.interaction_id if interaction else None,
        )
        return "250 2.0.0 OK: message accepted"

    def _parse(self, raw: bytes, envelope_from: str) -> ParsedMail:
        return parse_mail(
            raw,
            max_attachment_bytes=self._limits.max_attachment_bytes,
            fallback_domain=self._domain,
            envelope_from=envelope_from,
        )

    async def _receive(self, parsed: ParsedMail, rcpt_tos: list[str], envelope_from: str) -> Any:
        ours = [r for r in rcpt_tos if self.mailbox_of(r) is not None]
        mailbox = self.mailbox_of(ours[0]) if ours else None
        assert mailbox is not None  # RCPT accepted only our addresses
        address_tokens, tag = thread_tokens(
            [r for r in (*ours, *parsed.to_addresses, *parsed.cc_addresses) if self.mailbox_of(r)],
            parsed.subject,
        )
        tokens = tuple(dict.fromkeys((*address_tokens, *([tag] if tag is not None else []))))
        sender = parsed.from_address or normalise_address(envelope_from) or UNKNOWN_SENDER
        body = parsed.text
        if not body and parsed.attachments:
            body = "(attachments: " + ", ".join(a.filename for a in parsed.attachments) + ")"
        details = MailDetails(
            header_message_id=parsed.message_id,
            subject=parsed.subject,
            from_address=sender,
            mailbox=mailbox,
            reply_address=parsed.reply_address or sender,
            from_name=parsed.from_name,
            in_reply_to=parsed.in_reply_to,
            references=parsed.references,
            to_addresses=parsed.to_addresses,
            cc_addresses=parsed.cc_addresses,
            html=parsed.html,
            attachments=tuple(
                MailAttachment(a.filename, a.content_type, a.size, a.data, a.content_id, a.inline)
                for a in parsed.attachments
            ),
            automated=parsed.automated,
            warnings=parsed.warnings,
            raw=parsed.raw,
        )
        contact = InboundContact(
            channel=Channel.EMAIL,
            identity=Identity(IdentityKind.EMAIL, sender),
            thread_key="",
            body=body,
            display_name=parsed.from_name or None,
            mail=details,
            attributes={"subject": parsed.subject, "address": mailbox},
        )
        if parsed.warnings:
            log.warning("inbound mail %s: %s", parsed.message_id, "; ".join(parsed.warnings))
        return await self._inbound.receive_mail(
            contact,
            queue=self._addresses[mailbox],
            refs=parsed.thread_refs,
            tokens=tokens,
            bounced=parsed.bounced_ids,
            bounce_reason=parsed.bounce_reason,
        )


class ConnectionGate:
    """Counts open SMTP connections; beyond the limit a client is told 421 and dropped."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.open = 0

    def enter(self) -> bool:
        if self.open >= self.limit:
            return False
        self.open += 1
        return True

    def leave(self) -> None:
        self.open -= 1


class LimitedSMTP(SMTP):
    """aiosmtpd's SMTP protocol with a limit on simultaneous connections."""

    def __init__(self, handler: Any, *, gate: ConnectionGate, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self._gate = gate
        self._counted = False
        self._refused = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        first = self.transport is None  # a STARTTLS upgrade calls this again
        super().connection_made(transport)
        if first:
            self._counted = self._gate.enter()
            self._refused = not self._counted

    async def _handle_client(self) -> None:
        if self._refused:
            log.warning("SMTP connection refused: %d connections open", self._gate.open)
            await self.push("421 4.7.0 Too many connections; try again later")
            if self.transport is not None:
                self.transport.close()
            return
        await super()._handle_client()

    def connection_lost(self, error: Exception | None) -> None:
        if self._counted:
            self._counted = False
            self._gate.leave()
        super().connection_lost(error)


def tls_context(cert: str | None, key: str | None) -> ssl.SSLContext | None:
    if cert is None or key is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


async def start_server(
    handler: MailHandler,
    *,
    host: str,
    port: int,
    limits: SmtpLimits,
    hostname: str,
    tls: ssl.SSLContext | None = None,
) -> asyncio.Server:
    """Serve SMTP on ``host:port`` in the running loop; close the returned server to stop."""
    loop = asyncio.get_running_loop()
    gate = ConnectionGate(limits.max_connections)

    def factory() -> LimitedSMTP:
        return LimitedSMTP(
            handler,
            gate=gate,
            data_size_limit=limits.max_message_bytes,
            enable_SMTPUTF8=True,
            hostname=hostname,
            ident="contact-hub ESMTP",
            tls_context=tls,
            loop=loop,
        )

    server = await loop.create_server(factory, host, port)
    log.info("SMTP listening on %s:%s (STARTTLS %s)", host, port, "on" if tls else "off")
    return server


__all__ = ["MailHandler", "SmtpLimits", "sender_name", "start_server", "tls_context"]
