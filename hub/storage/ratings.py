"""Satisfaction ratings' storage: the ``RatingStore`` port on the same database as ``SqlStore``.

One row per interaction. Saving checks the replace window (``hub.satisfaction``) in the same
transaction as the write, so two ratings racing for one interaction leave one row: the
loser of the insert retries as a change of the winner's.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.errors import Conflict
from hub.model import Channel, Interaction, Message
from hub.satisfaction import FOLLOWUP_ATTRIBUTE, SURVEY_AUTHOR, Rating, check_replace
from hub.storage import tables as t
from hub.storage.sql import SqlStore, _interaction_row, _rating


class SqlRatingStore:
    def __init__(self, store: SqlStore) -> None:
        self._store = store

    async def _existing(self, conn: AsyncConnection, interaction_id: int) -> Any:
        return (
            await conn.execute(
                select(t.ratings).where(t.ratings.c.interaction_id == interaction_id)
            )
        ).first()

    async def save_rating(
        self,
        interaction_id: int,
        *,
        score: int,
        comment: str | None,
        channel: Channel,
        now: datetime,
    ) -> tuple[Rating, Rating | None]:
        """Store the rating (or change the earlier one within the window): the rating as
        stored, and the one it replaced, if any; a ``comment`` of None keeps the earlier
        one (a one-click score again). Conflict once the earlier one is final."""
        for attempt in range(2):
            try:
                async with self._store._tx() as conn:
                    inter = await _interaction_row(conn, interaction_id)
                    row = await self._existing(conn, interaction_id)
                    before = None if row is None else _rating(row, inter.customer_id)
                    check_replace(before, now)
                    values = {
                        "agent_id": inter.agent_id,
                        "channel": channel.value,
                        "score": score,
                        "comment": (before.comment if before else "")
                        if comment is None
                        else comment,
                        "rated_at": now,
                    }
                    if before is None:
                        await conn.execute(
                            insert(t.ratings).values(
                                interaction_id=interaction_id, first_rated_at=now, **values
                            )
                        )
                    else:
                        await conn.execute(
                            update(t.ratings)
                            .where(t.ratings.c.interaction_id == interaction_id)
                            .values(**values)
                        )
                    saved = await self._existing(conn, interaction_id)
                    return _rating(saved, inter.customer_id), before
            except IntegrityError:
                if attempt == 1:
                    raise Conflict(f"interaction {interaction_id} is being rated already") from None
        raise AssertionError("unreachable")

    async def rating(self, interaction_id: int) -> Rating | None:
        async with self._store._tx() as conn:
            row = await self._existing(conn, interaction_id)
            if row is None:
                return None
            inter = await _interaction_row(conn, interaction_id)
            return _rating(row, inter.customer_id)

    async def open_followup(
        self, interaction_id: int, *, queue: str, priority: int, body: str, now: datetime
    ) -> tuple[Interaction, Message] | None:
        """Open the follow-up of a low rating, once: a new interaction in ``queue`` on a new
        conversation of the same channel thread (so replies reach the customer the way
        they wrote), its first message ``body`` from the system, recorded on the rating in
        the same transaction. None when the rating has its follow-up already, or when the
        customer's thread is open again with a contact under way (they are being served)."""
        async with self._store._tx() as conn:
            rating = await self._existing(conn, interaction_id)
            if rating is None or rating.followup_interaction_id is not None:
                return None
            rated = await _interaction_row(conn, interaction_id)
            thread = (
                await conn.execute(
                    select(t.conversations).where(
                        t.conversations.c.conversation_id == rated.conversation_id
                    )
                )
            ).one()
            opened = await self._store._open_on_thread(
                conn,
                customer_id=rated.customer_id,
                channel=thread.channel,
                thread_key=thread.thread_key,
                queue=queue,
                priority=priority,
                attributes={FOLLOWUP_ATTRIBUTE: str(interaction_id)},
                author_name=SURVEY_AUTHOR,
                body=body,
                now=now,
            )
            if opened is None:
                return None
            followup, message = opened
            await conn.execute(
                update(t.ratings)
                .where(t.ratings.c.interaction_id == interaction_id)
                .values(followup_interaction_id=followup.interaction_id)
            )
            return followup, message

    async def score_counts(self, agent_id: int, since: datetime, until: datetime) -> dict[int, int]:
        """How many ratings of each score the agent got in ``[since, until)``."""
        r = t.ratings
        async with self._store._tx() as conn:
            rows = (
                await conn.execute(
                    select(r.c.score, func.count())
                    .where(and_(r.c.agent_id == agent_id, r.c.rated_at >= since))
                    .where(r.c.rated_at < until)
                    .group_by(r.c.score)
                )
            ).all()
        return {int(score): int(n) for score, n in rows}
