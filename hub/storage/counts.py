"""Counts for operations (``/metrics``), read from the database so every node reports the
same figures. Each query reads an indexed column and only unfinished rows, so a scrape stays
cheap however many finished interactions and sent mails the records hold."""

from __future__ import annotations

from sqlalchemy import func, select

from hub.lifecycle import ACTIVE_STATES
from hub.model import Channel, InteractionState
from hub.storage import tables as t
from hub.storage.sql import SqlStore

OUTBOX_PENDING = ("queued", "sending")
WEBHOOK_PENDING = ("pending", "sending")


class SqlCounts:
    def __init__(self, store: SqlStore) -> None:
        self._store = store

    async def active_interactions(self) -> dict[tuple[Channel, InteractionState], int]:
        """Interactions not yet finished, by channel and state (absent pairs are zero)."""
        i = t.interactions
        async with self._store._tx() as conn:
            rows = (
                await conn.execute(
                    select(i.c.channel, i.c.state, func.count())
                    .where(i.c.state.in_([s.value for s in ACTIVE_STATES]))
                    .group_by(i.c.channel, i.c.state)
                )
            ).all()
        return {(Channel(ch), InteractionState(st)): int(n) for ch, st, n in rows}

    async def outbox_backlog(self) -> int:
        """Emails waiting to be handed to the relay (queued, or being sent)."""
        o = t.email_outbox
        async with self._store._tx() as conn:
            found = (
                await conn.execute(select(func.count()).where(o.c.state.in_(OUTBOX_PENDING)))
            ).scalar()
        return int(found or 0)

    async def webhook_backlog(self) -> int:
        """Webhook deliveries not yet delivered or failed (waiting, retrying, being posted)."""
        d = t.webhook_deliveries
        async with self._store._tx() as conn:
            found = (
                await conn.execute(select(func.count()).where(d.c.state.in_(WEBHOOK_PENDING)))
            ).scalar()
        return int(found or 0)
