"""Webhook subscriptions and the durable queue of their deliveries (the ``WebhookStore`` port).

A delivery is claimed (a conditional update) before it is posted and moved on right after,
so two hubs never post one row at once; a row left ``sending`` by a hub that stopped is due
again once its lease runs out, so a restart resumes every pending delivery. Deliveries of a
disabled subscription wait (they are not claimed) until it is enabled again; removing a
subscription removes its deliveries.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, insert, or_, select, update

from hub.errors import Conflict, NotFound
from hub.storage import tables as t
from hub.storage.sql import SqlStore, _new_id
from hub.webhooks import (
    Delivery,
    DueDelivery,
    Subscription,
    SubscriptionChange,
    WebhookEvent,
    matches,
)

S = t.webhook_subscriptions
D = t.webhook_deliveries


def _subscription(row: Any) -> Subscription:
    return Subscription(
        subscription_id=row.subscription_id,
        url=row.url,
        event_types=tuple(row.event_types),
        description=row.description,
        enabled=bool(row.enabled),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _delivery(row: Any) -> Delivery:
    return Delivery(
        delivery_id=row.delivery_id,
        subscription_id=row.subscription_id,
        event_id=row.event_id,
        event_type=row.event_type,
        state=row.state,
        attempts=row.attempts,
        created_at=row.created_at,
        next_attempt_at=row.next_attempt_at,
        give_up_at=row.give_up_at,
        last_attempt_at=row.last_attempt_at,
        last_status=row.last_status,
        last_error=row.last_error,
        delivered_at=row.delivered_at,
    )


def _due(now: datetime) -> Any:
    return or_(
        and_(D.c.state == "pending", D.c.next_attempt_at <= now),
        and_(D.c.state == "sending", D.c.lease_until < now),
    )


def _pending(subscription_id: int, event: WebhookEvent, give_up_after_s: float) -> dict[str, Any]:
    """A new delivery of ``event``, due at once, given up ``give_up_after_s`` after it."""
    return {
        "subscription_id": subscription_id,
        "event_id": event.event_id,
        "event_type": event.event_type,
        "body": event.body,
        "state": "pending",
        "attempts": 0,
        "next_attempt_at": event.created_at,
        "give_up_at": event.created_at + timedelta(seconds=give_up_after_s),
        "created_at": event.created_at,
    }


class SqlWebhookStore:
    def __init__(self, store: SqlStore) -> None:
        self._store = store

    # ------------------------------------------------------------------ subscriptions
    async def create_subscription(
        self,
        *,
        url: str,
        event_types: tuple[str, ...],
        description: str,
        enabled: bool,
        secret: str,
        now: datetime,
    ) -> Subscription:
        async with self._store._tx() as conn:
            subscription_id = _new_id(
                await conn.execute(
                    insert(S).values(
                        url=url,
                        event_types=list(event_types),
                        secret=secret,
                        description=description,
                        enabled=enabled,
                        created_at=now,
                        updated_at=now,
                    )
                )
            )
            row = (
                await conn.execute(select(S).where(S.c.subscription_id == subscription_id))
            ).one()
        return _subscription(row)

    async def subscriptions(self) -> list[Subscription]:
        async with self._store._tx() as conn:
            rows = (await conn.execute(select(S).order_by(S.c.subscription_id))).all()
        return [_subscription(r) for r in rows]

    async def subscription(self, subscription_id: int) -> Subscription:
        async with self._store._tx() as conn:
            row = (
                await conn.execute(select(S).where(S.c.subscription_id == subscription_id))
            ).first()
        if row is None:
            raise NotFound(f"no webhook subscription {subscription_id}")
        return _subscription(row)

    async def update_subscription(
        self,
        subscription_id: int,
        change: SubscriptionChange,
        *,
        now: datetime,
        secret: str | None = None,
    ) -> Subscription:
        values: dict[str, Any] = {"updated_at": now}
        if change.url is not None:
            values["url"] = change.url
        if change.event_types is not None:
            values["event_types"] = list(change.event_types)
        if change.description is not None:
            values["description"] = change.description
        if change.enabled is not None:
            values["enabled"] = change.enabled
        if secret is not None:
            values["secret"] = secret
        where = S.c.subscription_id == subscription_id
        async with self._store._tx() as conn:
            if (await conn.execute(update(S).where(where).values(**values))).rowcount != 1:
                raise NotFound(f"no webhook subscription {subscription_id}")
            row = (await conn.execute(select(S).where(where))).one()
        return _subscription(row)

    async def delete_subscription(self, subscription_id: int) -> Subscription:
        """Remove a subscription and its deliveries (pending ones are never sent)."""
        where = S.c.subscription_id == subscription_id
        async with self._store._tx() as conn:
            row = (await conn.execute(select(S).where(where))).first()
            if row is None:
                raise NotFound(f"no webhook subscription {subscription_id}")
            await conn.execute(delete(D).where(D.c.subscription_id == subscription_id))
            await conn.execute(delete(S).where(where))
        return _subscription(row)

    # ------------------------------------------------------------------ deliveries
    async def record_event(self, event: WebhookEvent, *, give_up_after_s: float) -> int:
        """One pending delivery per enabled subscription that wants ``event``, in one
        transaction; how many were written."""
        async with self._store._tx() as conn:
            subscribers = (
                await conn.execute(
                    select(S.c.subscription_id, S.c.event_types).where(S.c.enabled.is_(True))
                )
            ).all()
            wanted = [
                s.subscription_id for s in subscribers if matches(s.event_types, event.event_type)
            ]
            for subscription_id in wanted:
                await conn.execute(
                    insert(D).values(_pending(subscription_id, event, give_up_after_s))
                )
        return len(wanted)

    async def record_ping(
        self, subscription_id: int, event: WebhookEvent, *, give_up_after_s: float
    ) -> Delivery:
        """A delivery of ``event`` to this subscription alone; Conflict if it is disabled."""
        subscription = await self.subscription(subscription_id)
        if not subscription.enabled:
            raise Conflict(f"webhook {subscription_id} is disabled; enable it first")
        async with self._store._tx() as conn:
            delivery_id = _new_id(
                await conn.execute(
                    insert(D).values(_pending(subscription_id, event, give_up_after_s))
                )
            )
            row = (await conn.execute(select(D).where(D.c.delivery_id == delivery_id))).one()
        return _delivery(row)

    async def claim_deliveries(
        self, *, now: datetime, lease_s: float, limit: int
    ) -> list[DueDelivery]:
        """Claim due deliveries of enabled subscriptions, oldest first."""
        claimed = []
        async with self._store._tx() as conn:
            rows = (
                await conn.execute(
                    select(D, S.c.url, S.c.secret)
                    .join(S, S.c.subscription_id == D.c.subscription_id)
                    .where(_due(now))
                    .where(S.c.enabled.is_(True))
                    .order_by(D.c.next_attempt_at, D.c.delivery_id)
                    .limit(limit)
                )
            ).all()
            for r in rows:
                won = await conn.execute(
                    update(D)
                    .where(and_(D.c.delivery_id == r.delivery_id, _due(now)))
                    .values(
                        state="sending",
                        lease_until=now + timedelta(seconds=lease_s),
                        attempts=D.c.attempts + 1,
                        last_attempt_at=now,
                    )
                )
                if won.rowcount == 1:
                    claimed.append(
                        DueDelivery(
                            delivery_id=r.delivery_id,
                            url=r.url,
                            secret=r.secret,
                            event_type=r.event_type,
                            body=r.body,
                            attempts=r.attempts + 1,
                            give_up_at=r.give_up_at,
                        )
                    )
        return claimed

    async def finish_attempt(
        self,
        delivery_id: int,
        *,
        now: datetime,
        status: int | None,
        error: str | None,
        next_attempt_at: datetime | None,
    ) -> str | None:
        """Move a claimed delivery on after an attempt: delivered (no error), pending again
        (``next_attempt_at``) or failed. Its new state, or None if the claim was lost."""
        if error is None:
            values: dict[str, Any] = {"state": "delivered", "delivered_at": now}
        elif next_attempt_at is not None:
            values = {"state": "pending", "next_attempt_at": next_attempt_at}
        else:
            values = {"state": "failed", "next_attempt_at": None}
        values |= {"lease_until": None, "last_status": status, "last_error": error}
        async with self._store._tx() as conn:
            result = await conn.execute(
                update(D)
                .where(D.c.delivery_id == delivery_id)
                .where(D.c.state == "sending")
                .values(**values)
            )
        return str(values["state"]) if result.rowcount == 1 else None

    async def next_delivery_at(self) -> datetime | None:
        """When the next delivery falls due (a retry, or a lease running out)."""
        async with self._store._tx() as conn:
            pending = (
                await conn.execute(
                    select(func.min(D.c.next_attempt_at))
                    .join(S, S.c.subscription_id == D.c.subscription_id)
                    .where(D.c.state == "pending")
                    .where(S.c.enabled.is_(True))
                )
            ).scalar()
            leased = (
                await conn.execute(select(func.min(D.c.lease_until)).where(D.c.state == "sending"))
            ).scalar()
        times = [x for x in (pending, leased) if x is not None]
        return min(times) if times else None

    async def deliveries(
        self, subscription_id: int, *, limit: int, before_id: int | None = None
    ) -> list[Delivery]:
        """The subscription's deliveries, newest first."""
        await self.subscription(subscription_id)  # NotFound for an unknown one
        query = (
            select(D)
            .where(D.c.subscription_id == subscription_id)
            .order_by(D.c.delivery_id.desc())
            .limit(limit)
        )
        if before_id is not None:
            query = query.where(D.c.delivery_id < before_id)
        async with self._store._tx() as conn:
            rows = (await conn.execute(query)).all()
        return [_delivery(r) for r in rows]

    async def redeliver(
        self, subscription_id: int, delivery_id: int, *, now: datetime, give_up_after_s: float
    ) -> Delivery:
        """Send a delivery again now (the same event, the same body), with a fresh retry
        window; Conflict while an attempt is in flight."""
        where = and_(D.c.delivery_id == delivery_id, D.c.subscription_id == subscription_id)
        async with self._store._tx() as conn:
            row = (await conn.execute(select(D).where(where))).first()
            if row is None:
                raise NotFound(f"no delivery {delivery_id} for webhook {subscription_id}")
            changed = await conn.execute(
                update(D)
                .where(where)
                .where(D.c.state != "sending")
                .values(
                    state="pending",
                    next_attempt_at=now,
                    give_up_at=now + timedelta(seconds=give_up_after_s),
                    lease_until=None,
                )
            )
            if changed.rowcount != 1:
                raise Conflict(f"delivery {delivery_id} is being sent right now; try again shortly")
            row = (await conn.execute(select(D).where(where))).one()
        return _delivery(row)
