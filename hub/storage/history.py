"""What the historical reports read (SQLite and PostgreSQL): the interactions with a step in
a range, with their steps, when their customers made their other contacts (for
first-contact resolution), and their satisfaction scores."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy import Select, and_, select

from hub.errors import InvalidInput
from hub.ports import InteractionRecord
from hub.storage import tables as t
from hub.storage.sql import SqlStore

HISTORY_RECORDS_LIMIT = 500_000  # folded in memory; a wider range is refused, not cut short


class SqlHistory:
    def __init__(self, store: SqlStore) -> None:
        self._store = store

    def _stepped(self, start: datetime, end: datetime) -> Select[tuple[int]]:
        s = t.interaction_steps
        return select(s.c.interaction_id).where(and_(s.c.at >= start, s.c.at < end)).distinct()

    async def records(
        self, start: datetime, end: datetime, queues: Collection[str] | None
    ) -> list[InteractionRecord]:
        """Interactions (of ``queues``; None: all) with a step in ``[start, end)``, with all
        their steps, oldest first."""
        i = t.interactions
        cond = [i.c.interaction_id.in_(self._stepped(start, end))]
        if queues is not None:
            cond.append(i.c.queue.in_(sorted(queues)))
        async with self._store._tx() as conn:
            records = await self._store._interaction_records(
                conn, and_(*cond), limit=HISTORY_RECORDS_LIMIT + 1, with_messages=False
            )
        if len(records) > HISTORY_RECORDS_LIMIT:
            raise InvalidInput(
                f"more than {HISTORY_RECORDS_LIMIT} interactions in that range; ask for fewer days"
            )
        records.reverse()
        return records

    async def contacts(
        self, start: datetime, end: datetime, window: timedelta
    ) -> dict[int, list[tuple[datetime, int]]]:
        """customer id -> (created_at, interaction id) of every interaction created in
        ``[start - window, end)`` by a customer who has an interaction with a step in
        ``[start, end)``, whatever its queue or channel."""
        i = t.interactions
        customers = select(i.c.customer_id).where(i.c.interaction_id.in_(self._stepped(start, end)))
        query = select(i.c.customer_id, i.c.created_at, i.c.interaction_id).where(
            and_(
                i.c.customer_id.in_(customers.scalar_subquery()),
                i.c.created_at >= start - window,
                i.c.created_at < end,
            )
        )
        out: dict[int, list[tuple[datetime, int]]] = {}
        async with self._store._tx() as conn:
            for customer_id, created_at, interaction_id in (await conn.execute(query)).all():
                out.setdefault(customer_id, []).append((created_at, interaction_id))
        return out

    async def scores(self, start: datetime, end: datetime) -> dict[int, float]:
        """interaction id -> satisfaction score, of the interactions with a step in
        ``[start, end)`` that were rated."""
        r = t.ratings
        query = select(r.c.interaction_id, r.c.score).where(
            r.c.interaction_id.in_(self._stepped(start, end))
        )
        async with self._store._tx() as conn:
            return {iid: float(score) for iid, score in (await conn.execute(query)).all()}
