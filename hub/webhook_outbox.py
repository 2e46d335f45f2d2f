"""Outbound webhooks, the moving parts: the recorder writes deliveries when events happen, the
sender posts them.

The recorder listens on the bus, which announces each fact after it is committed; it writes
one pending delivery per subscription that wants the event, in one transaction, before any
POST is made (persist, then announce), and wakes the sender. The sender claims due
deliveries (leased, so two hubs never post one), posts a batch at once with a bounded
timeout, so a slow receiver holds up neither the hub nor the other receivers, and records
each outcome: a 2xx is delivered; anything else (another status, a refused connection, a
timeout) is retried on the ``RetryPolicy`` schedule until its deadline, then failed.
Secrets are never logged, and neither are the URLs (they often carry a token).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable

import aiohttp

from hub.outbox_worker import OutboxWorker
from hub.ports import Clock, EventBus, WebhookStore
from hub.webhook_events import BUS_EVENTS, webhook_event, webhook_payload
from hub.webhooks import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    DueDelivery,
    RetryPolicy,
    new_event_id,
    next_attempt_at,
    signature,
)

log = logging.getLogger(__name__)

USER_AGENT = "contact-hub-webhooks/1"
MAX_ERROR_BODY = 200  # characters of a refusing receiver's reply kept in the delivery log
MAX_ERROR = 500


class WebhookRecorder:
    """Bus events in, pending deliveries out."""

    def __init__(
        self,
        *,
        store: WebhookStore,
        clock: Clock,
        give_up_after_s: float,
        recorded: Callable[[], None],
        event_id: Callable[[], str] = new_event_id,
    ) -> None:
        self._store = store
        self._clock = clock
        self._give_up_after_s = give_up_after_s
        self._recorded = recorded
        self._event_id = event_id

    def subscribe(self, bus: EventBus) -> None:
        for event_type in BUS_EVENTS:
            bus.subscribe(event_type, self.handle_event)

    async def handle_event(self, event: object) -> None:
        mapped = webhook_event(event)
        if mapped is None:
            return
        event_type, data = mapped
        webhook = webhook_payload(self._event_id(), event_type, self._clock(), data)
        written = await self._store.record_event(webhook, give_up_after_s=self._give_up_after_s)
        if written:
            log.debug("%s %s: %d deliveries queued", event_type, webhook.event_id, written)
            self._recorded()


class WebhookSender:
    """Pending deliveries in, signed POSTs out."""

    def __init__(
        self,
        *,
        store: WebhookStore,
        clock: Clock,
        policy: RetryPolicy,
        timeout_s: float,
        parallel: int,
        rng: random.Random | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._policy = policy
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._parallel = parallel
        self._rng = rng or random.Random()  # noqa: S311 (jitter, not a secret)
        self._lease_s = timeout_s * 2 + 30
        self._http: aiohttp.ClientSession | None = None
        self._worker: OutboxWorker[DueDelivery] = OutboxWorker(
            name="webhook-sender",
            claim=self._claim,
            handle=self._post,
            next_due=store.next_delivery_at,
            clock=clock,
            parallel=True,
        )

    def wake(self) -> None:
        """A delivery was queued: look now."""
        self._worker.wake()

    async def start(self) -> None:
        if self._http is None:
            self._http = aiohttp.ClientSession(
                timeout=self._timeout, headers={"User-Agent": USER_AGENT}
            )
        await self._worker.start()

    async def stop(self, grace_s: float = 2.0) -> None:
        try:
            await self._worker.stop(grace_s)
        finally:  # the HTTP session is closed even when the worker's stop fails
            if self._http is not None:
                await self._http.close()
                self._http = None

    async def _claim(self) -> list[DueDelivery]:
        return await self._store.claim_deliveries(
            now=self._clock(), lease_s=self._lease_s, limit=self._parallel
        )

    async def _post(self, item: DueDelivery) -> None:
        assert self._http is not None
        stamp = int(self._clock().timestamp())
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            SIGNATURE_HEADER: signature(item.secret, stamp, item.body),
            DELIVERY_HEADER: str(item.delivery_id),
            EVENT_HEADER: item.event_type,
        }
        status: int | None = None
        error: str | None = None
        try:
            async with self._http.post(
                item.url, data=item.body.encode(), headers=headers, allow_redirects=False
            ) as response:
                status = response.status
                if not 200 <= status < 300:
                    # Only the start of the reply: a receiver's error page can be large.
                    start = await response.content.read(MAX_ERROR_BODY * 4)
                    reply = start.decode("utf-8", errors="replace")[:MAX_ERROR_BODY]
                    error = f"HTTP {status} {response.reason or ''}".strip()
                    if reply.strip():
                        error = f"{error}: {reply.strip()}"
        except TimeoutError:
            error = f"no reply within {self._timeout.total:g} s"
        except (aiohttp.ClientError, OSError) as exc:
            error = f"{exc.__class__.__name__}: {exc}" if str(exc) else exc.__class__.__name__
        await self._record(item, status, None if error is None else error[:MAX_ERROR])

    async def _record(self, item: DueDelivery, status: int | None, error: str | None) -> None:
        now = self._clock()
        retry_at = None
        if error is not None:
            retry_at = next_attempt_at(
                self._policy, item.attempts, now=now, give_up_at=item.give_up_at, rng=self._rng
            )
        state = await self._store.finish_attempt(
            item.delivery_id, now=now, status=status, error=error, next_attempt_at=retry_at
        )
        if state == "delivered":
            log.info("webhook delivery %s delivered (%s)", item.delivery_id, status)
        elif state == "pending":
            log.info(
                "webhook delivery %s attempt %d failed (%s); retry at %s",
                item.delivery_id,
                item.attempts,
                error,
                retry_at,
            )
        elif state == "failed":
            log.warning(
                "webhook delivery %s failed after %d attempts: %s",
                item.delivery_id,
                item.attempts,
                error,
            )
