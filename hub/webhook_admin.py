"""What an admin does with webhooks (REST and CLI alike): subscribe, change, remove, rotate the
secret, read the delivery log and send a delivery again.

The signing secret is made here, from the system's random source, and returned only by
``add`` and ``rotate_secret``: it is shown once and never again (a lost secret is rotated).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from typing import Any

from hub.ports import Clock, WebhookStore
from hub.webhook_events import webhook_payload
from hub.webhooks import PING, Delivery, Subscription, new_event_id, subscription_change

SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, so a leaked secret is recognisable)


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


class WebhookAdmin:
    def __init__(
        self,
        *,
        store: WebhookStore,
        clock: Clock,
        give_up_after_s: float,
        queued: Callable[[], None] = lambda: None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._give_up_after_s = give_up_after_s
        self._queued = queued

    async def add(self, fields: Mapping[str, Any]) -> tuple[Subscription, str]:
        """A new subscription (enabled unless ``enabled`` is false) and its secret."""
        change = subscription_change(fields, creating=True)
        assert change.url is not None and change.event_types is not None
        secret = new_secret()
        subscription = await self._store.create_subscription(
            url=change.url,
            event_types=change.event_types,
            description=change.description or "",
            enabled=True if change.enabled is None else change.enabled,
            secret=secret,
            now=self._clock(),
        )
        return subscription, secret

    async def subscriptions(self) -> list[Subscription]:
        return await self._store.subscriptions()

    async def subscription(self, subscription_id: int) -> Subscription:
        return await self._store.subscription(subscription_id)

    async def change(self, subscription_id: int, fields: Mapping[str, Any]) -> Subscription:
        change = subscription_change(fields, creating=False)
        subscription = await self._store.update_subscription(
            subscription_id, change, now=self._clock()
        )
        if change.enabled:
            self._queued()  # deliveries that waited while it was disabled go now
        return subscription

    async def rotate_secret(self, subscription_id: int) -> tuple[Subscription, str]:
        """A new secret; deliveries from now on (retries too) are signed with it."""
        secret = new_secret()
        subscription = await self._store.update_subscription(
            subscription_id,
            subscription_change({}, creating=False),
            now=self._clock(),
            secret=secret,
        )
        return subscription, secret

    async def remove(self, subscription_id: int) -> Subscription:
        return await self._store.delete_subscription(subscription_id)

    async def deliveries(
        self, subscription_id: int, *, limit: int, before_id: int | None
    ) -> list[Delivery]:
        return await self._store.deliveries(subscription_id, limit=limit, before_id=before_id)

    async def ping(self, subscription_id: int) -> Delivery:
        """Send a ``ping`` event to this subscription alone, to try the receiver."""
        event = webhook_payload(
            new_event_id(), PING, self._clock(), {"subscription_id": subscription_id}
        )
        delivery = await self._store.record_ping(
            subscription_id, event, give_up_after_s=self._give_up_after_s
        )
        self._queued()
        return delivery

    async def redeliver(self, subscription_id: int, delivery_id: int) -> Delivery:
        delivery = await self._store.redeliver(
            subscription_id,
            delivery_id,
            now=self._clock(),
            give_up_after_s=self._give_up_after_s,
        )
        self._queued()
        return delivery
