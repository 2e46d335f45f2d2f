"""Outbound SMTP: a worker that drains the durable outbox through a relay (aiosmtplib).

Each row is claimed (a conditional update) before it is sent, and marked sent right after,
so two hubs never send one row and a restart never sends a sent row again. A temporary
failure (4xx, connection refused, timeout) is retried with exponential backoff; a permanent
one (5xx) or too many attempts marks the message failed, with the reason, for the console.
If the hub dies between the relay's "250" and the mark, the row's lease runs out and the
same bytes (same Message-ID, so clients file them as one) go again: at least once, never
silently lost. The relay password is never logged. Each change of a reply's delivery status
(sent, failed, waiting for a retry) is announced once it is stored (``MessageDetailsChanged``),
so the agent's console shows it without asking.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

import aiosmtplib

from hub.events import MessageDetailsChanged
from hub.model import Interaction
from hub.outbox_worker import OutboxWorker
from hub.ports import Clock, EventBus, MailStore, OutboxItem

log = logging.getLogger(__name__)

BATCH = 10


@dataclass(frozen=True)
class Relay:
    host: str
    port: int
    starttls: bool = False
    tls: bool = False
    username: str | None = None
    password: str | None = None
    timeout_s: float = 30.0

    def __repr__(self) -> str:  # never show the password
        return f"Relay({self.host}:{self.port}, starttls={self.starttls}, tls={self.tls})"


def backoff_s(attempts: int, initial_s: float, max_s: float) -> float:
    """Seconds to wait before attempt ``attempts + 1``: doubling from ``initial_s``."""
    return float(min(max_s, initial_s * 2 ** max(0, attempts - 1)))


class OutboxSender:
    def __init__(
        self,
        *,
        store: MailStore,
        bus: EventBus,
        clock: Clock,
        relay: Relay,
        retry_initial_s: float,
        retry_max_s: float,
        max_attempts: int,
    ) -> None:
        self._store = store
        self._bus = bus
        self._clock = clock
        self._relay = relay
        self._initial_s = retry_initial_s
        self._max_s = retry_max_s
        self._max_attempts = max_attempts
        self._lease_s = relay.timeout_s * 4 + 30
        self._worker: OutboxWorker[OutboxItem] = OutboxWorker(
            name="email-outbox",
            claim=self._claim,
            handle=self._send,
            next_due=store.next_outbox_at,
            clock=clock,
        )

    def wake(self) -> None:
        """Something was queued: look at the outbox now."""
        self._worker.wake()

    async def start(self) -> None:
        await self._worker.start()

    async def stop(self, grace_s: float = 2.0) -> None:
        """Stop; a send in flight gets ``grace_s`` to finish so it is marked sent."""
        await self._worker.stop(grace_s)

    async def _claim(self) -> list[OutboxItem]:
        return await self._store.claim_outbox(now=self._clock(), lease_s=self._lease_s, limit=BATCH)

    async def _send(self, item: OutboxItem) -> None:
        relay = self._relay
        try:
            await aiosmtplib.send(
                item.payload,
                sender=item.sender,
                recipients=list(item.recipients),
                hostname=relay.host,
                port=relay.port,
                use_tls=relay.tls,
                start_tls=relay.starttls,
                username=relay.username,
                password=relay.password,
                timeout=relay.timeout_s,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            detail = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in exc.recipients)
            await self._failed_or_retry(item, f"refused: {detail}", all(c >= 500 for c in codes))
        except aiosmtplib.SMTPResponseException as exc:
            await self._failed_or_retry(item, f"{exc.code} {exc.message}", exc.code >= 500)
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            reason = f"{exc.__class__.__name__}: {exc}" if str(exc) else exc.__class__.__name__
            await self._failed_or_retry(item, f"relay unreachable ({reason})", False)
        else:
            interaction = await self._store.outbox_sent(item.outbox_id, now=self._clock())
            log.info("outbox %s sent (message %s)", item.outbox_id, item.message_id)
            await self._announce(interaction, item, "sent", None)

    async def _announce(
        self, interaction: Interaction | None, item: OutboxItem, status: str, detail: str | None
    ) -> None:
        """Tell the console a reply's delivery status changed (already stored)."""
        if interaction is None:
            return
        details = {"email": {"status": status, "status_detail": detail}}
        await self._bus.publish(MessageDetailsChanged(interaction, item.message_id, details))

    async def _failed_or_retry(self, item: OutboxItem, error: str, permanent: bool) -> None:
        error = error[:500]
        if permanent or item.attempts >= self._max_attempts:
            if not permanent:
                error = f"gave up after {item.attempts} attempts: {error}"
            interaction = await self._store.outbox_failed(
                item.outbox_id, error=error, now=self._clock()
            )
            log.warning("outbox %s failed: %s", item.outbox_id, error)
            await self._announce(interaction, item, "failed", error)
            return
        delay = backoff_s(item.attempts, self._initial_s, self._max_s)
        interaction = await self._store.outbox_retry(
            item.outbox_id, error=error, next_attempt_at=self._clock() + timedelta(seconds=delay)
        )
        log.info("outbox %s not sent (%s); retry in %.0f s", item.outbox_id, error, delay)
        await self._announce(interaction, item, "queued", f"not sent yet, will retry: {error}")
