"""Follow-ups' storage: the ``FollowupStore`` port on the same database as ``SqlStore``.

Opening is a claim: ``scheduled -> opened`` by a conditional update, in the same transaction
as the interaction it opens (``SqlStore._open_on_thread``) or the note it adds to a contact
under way. Two hub nodes racing for one follow-up: the second update matches no row (on
PostgreSQL it waits for the first to commit, then finds the state changed), so it is opened
once and only the winner announces it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import aliased

from hub.errors import Conflict, InvalidInput, NotFound
from hub.followups import (
    AUTHOR,
    FOLLOWUP_ATTRIBUTE,
    OWNER_ATTRIBUTE,
    RECENT,
    Followup,
    FollowupOpened,
    FollowupQuery,
    FollowupRequest,
    FollowupState,
    FollowupThread,
    opening_text,
)
from hub.model import Channel
from hub.storage import tables as t
from hub.storage.sql import (
    _NOTE_COLUMNS,
    SqlStore,
    _active_interaction_row,
    _interaction,
    _new_id,
    _note,
)

log = logging.getLogger(__name__)

f = t.followups
_owner = aliased(t.users, name="owner")
_creator = aliased(t.users, name="creator")


def _followup(row: Any) -> Followup:
    return Followup(
        followup_id=row.followup_id,
        customer_id=row.customer_id,
        conversation_id=row.conversation_id,
        channel=Channel(row.channel),
        owner_id=row.owner_id,
        created_by=row.created_by,
        note=row.note,
        queue=row.queue,
        due_at=row.due_at,
        state=FollowupState(row.state),
        created_at=row.created_at,
        interaction_id=row.interaction_id,
        note_id=row.note_id,
        opened_at=row.opened_at,
        cancelled_at=row.cancelled_at,
        created_by_name=row.created_by_name,
        owner_name=row.owner_name,
    )


def _select() -> Any:
    return (
        select(
            f,
            t.conversations.c.channel,
            _owner.c.name.label("owner_name"),
            _creator.c.name.label("created_by_name"),
        )
        .join(t.conversations, t.conversations.c.conversation_id == f.c.conversation_id)
        .join(_owner, _owner.c.user_id == f.c.owner_id)
        .join(_creator, _creator.c.user_id == f.c.created_by)
    )


async def _load(conn: AsyncConnection, followup_id: int) -> Followup:
    row = (await conn.execute(_select().where(f.c.followup_id == followup_id))).first()
    if row is None:
        raise NotFound(f"no follow-up {followup_id}")
    return _followup(row)


class SqlFollowupStore:
    def __init__(self, store: SqlStore) -> None:
        self._store = store

    async def thread(self, customer_id: int, interaction_id: int | None) -> FollowupThread:
        """Where a follow-up of this customer goes: the conversation of ``interaction_id``
        (which must be theirs), else their most recent conversation."""
        i, c = t.interactions, t.conversations
        async with self._store._tx() as conn:
            owner_id = (
                await conn.execute(
                    select(t.customers.c.owner_id).where(t.customers.c.customer_id == customer_id)
                )
            ).first()
            if owner_id is None:
                raise NotFound(f"no customer {customer_id}")
            if interaction_id is not None:
                conversation_id = (
                    await conn.execute(
                        select(i.c.conversation_id).where(
                            and_(
                                i.c.interaction_id == interaction_id, i.c.customer_id == customer_id
                            )
                        )
                    )
                ).scalar()
                if conversation_id is None:
                    raise InvalidInput(
                        f"interaction_id: {interaction_id} is not an interaction of customer "
                        f"{customer_id}"
                    )
            else:
                conversation_id = (
                    await conn.execute(
                        select(c.c.conversation_id)
                        .where(c.c.customer_id == customer_id)
                        .order_by(c.c.created_at.desc(), c.c.conversation_id.desc())
                        .limit(1)
                    )
                ).scalar()
                if conversation_id is None:
                    raise InvalidInput(
                        f"customer {customer_id} has no conversation to follow up on: a "
                        "follow-up continues one of their conversations"
                    )
            channel = (
                await conn.execute(
                    select(c.c.channel).where(c.c.conversation_id == conversation_id)
                )
            ).scalar_one()
            queue = (
                await conn.execute(
                    select(i.c.queue)
                    .where(i.c.conversation_id == conversation_id)
                    .order_by(i.c.interaction_id.desc())
                    .limit(1)
                )
            ).scalar()
        return FollowupThread(conversation_id, Channel(channel), queue or "", owner_id[0])

    async def schedule(
        self,
        customer_id: int,
        request: FollowupRequest,
        *,
        thread: FollowupThread,
        queue: str,
        owner_id: int,
        created_by: int,
        now: datetime,
    ) -> Followup:
        async with self._store._tx() as conn:
            followup_id = _new_id(
                await conn.execute(
                    insert(f).values(
                        customer_id=customer_id,
                        conversation_id=thread.conversation_id,
                        owner_id=owner_id,
                        created_by=created_by,
                        note=request.note,
                        queue=queue,
                        due_at=request.due_at,
                        state=FollowupState.SCHEDULED.value,
                        created_at=now,
                    )
                )
            )
            return await _load(conn, followup_id)

    async def followup(self, followup_id: int) -> Followup:
        async with self._store._tx() as conn:
            return await _load(conn, followup_id)

    async def followups(self, query: FollowupQuery) -> list[Followup]:
        """By id (the cursor: ``after_id``), at most ``limit``."""
        cond: list[Any] = []
        if query.customer_id is not None:
            cond.append(f.c.customer_id == query.customer_id)
        if query.agent_id is not None:
            cond.append(or_(f.c.owner_id == query.agent_id, f.c.created_by == query.agent_id))
        if query.state is not None:
            cond.append(f.c.state == query.state.value)
        if query.after_id is not None:
            cond.append(f.c.followup_id > query.after_id)
        async with self._store._tx() as conn:
            rows = (
                await conn.execute(
                    _select().where(*cond).order_by(f.c.followup_id).limit(query.limit)
                )
            ).all()
        return [_followup(r) for r in rows]

    async def of_customer(self, customer_id: int) -> list[Followup]:
        """A customer's scheduled follow-ups (soonest first) and their most recent others."""
        async with self._store._tx() as conn:
            scheduled = (
                await conn.execute(
                    _select()
                    .where(f.c.customer_id == customer_id)
                    .where(f.c.state == FollowupState.SCHEDULED.value)
                    .order_by(f.c.due_at, f.c.followup_id)
                )
            ).all()
            recent = (
                await conn.execute(
                    _select()
                    .where(f.c.customer_id == customer_id)
                    .where(f.c.state != FollowupState.SCHEDULED.value)
                    .order_by(f.c.followup_id.desc())
                    .limit(RECENT)
                )
            ).all()
        return [_followup(r) for r in (*scheduled, *recent)]

    async def cancel(self, followup_id: int, *, now: datetime) -> Followup:
        """``scheduled -> cancelled``; Conflict once it is opened or cancelled."""
        async with self._store._tx() as conn:
            result = await conn.execute(
                update(f)
                .where(f.c.followup_id == followup_id)
                .where(f.c.state == FollowupState.SCHEDULED.value)
                .values(state=FollowupState.CANCELLED.value, cancelled_at=now)
            )
            current = await _load(conn, followup_id)
            if result.rowcount != 1:
                raise Conflict(f"follow-up {followup_id} is {current.state.value}, not scheduled")
            return current

    async def next_due(self) -> datetime | None:
        """When the soonest scheduled follow-up is due."""
        async with self._store._tx() as conn:
            row = (
                await conn.execute(
                    select(f.c.due_at)
                    .where(f.c.state == FollowupState.SCHEDULED.value)
                    .order_by(f.c.due_at)
                    .limit(1)
                )
            ).first()
        return None if row is None else row.due_at

    async def due(self, now: datetime, *, limit: int = 100) -> list[int]:
        """The ids of scheduled follow-ups due at ``now``, soonest first."""
        async with self._store._tx() as conn:
            rows = await conn.execute(
                select(f.c.followup_id)
                .where(f.c.state == FollowupState.SCHEDULED.value)
                .where(f.c.due_at <= now)
                .order_by(f.c.due_at, f.c.followup_id)
                .limit(limit)
            )
            return [int(r) for r in rows.scalars()]

    async def open(
        self, followup_id: int, *, priorities: Mapping[str, int], now: datetime
    ) -> FollowupOpened | None:
        """Open a due follow-up, once: None when another node (or a cancel) got there
        first. A unique-index race with the customer writing at that moment is retried: the
        second time their new contact is there, and the follow-up becomes a note on it."""
        for attempt in range(2):
            try:
                async with self._store._tx() as conn:
                    return await self._open(conn, followup_id, priorities, now)
            except IntegrityError:
                if attempt == 1:
                    raise Conflict(f"follow-up {followup_id}: its thread is busy") from None
                log.info("followup_id=%s raced a new contact on its thread; retrying", followup_id)
        raise AssertionError("unreachable")

    async def _open(
        self,
        conn: AsyncConnection,
        followup_id: int,
        priorities: Mapping[str, int],
        now: datetime,
    ) -> FollowupOpened | None:
        claimed = await conn.execute(
            update(f)
            .where(f.c.followup_id == followup_id)
            .where(f.c.state == FollowupState.SCHEDULED.value)
            .values(state=FollowupState.OPENED.value, opened_at=now)
        )
        if claimed.rowcount != 1:
            return None
        followup = await _load(conn, followup_id)
        thread = (
            await conn.execute(
                select(t.conversations).where(
                    t.conversations.c.conversation_id == followup.conversation_id
                )
            )
        ).one()
        body = opening_text(followup.note, scheduled_by=followup.created_by_name)
        opened = await self._store._open_on_thread(
            conn,
            customer_id=followup.customer_id,
            channel=thread.channel,
            thread_key=thread.thread_key,
            queue=followup.queue,
            priority=priorities.get(followup.queue, 0),
            attributes={
                FOLLOWUP_ATTRIBUTE: str(followup_id),
                OWNER_ATTRIBUTE: str(followup.owner_id),
            },
            author_name=AUTHOR,
            body=body,
            now=now,
        )
        if opened is not None:
            interaction, message = opened
            await conn.execute(
                update(f)
                .where(f.c.followup_id == followup_id)
                .values(interaction_id=interaction.interaction_id)
            )
            return FollowupOpened(await _load(conn, followup_id), interaction, message=message)
        # The customer's thread has a contact under way: the note goes on it, privately.
        under_way = await self._under_way(conn, thread.channel, thread.thread_key)
        note_id = _new_id(
            await conn.execute(
                insert(t.notes).values(
                    customer_id=under_way.customer_id,
                    interaction_id=under_way.interaction_id,
                    author_id=followup.created_by,
                    body=body,
                    created_at=now,
                    kind="note",
                )
            )
        )
        await conn.execute(
            update(f)
            .where(f.c.followup_id == followup_id)
            .values(interaction_id=under_way.interaction_id, note_id=note_id)
        )
        note_row = (
            await conn.execute(
                select(*_NOTE_COLUMNS)
                .join(t.users, t.users.c.user_id == t.notes.c.author_id)
                .where(t.notes.c.note_id == note_id)
            )
        ).one()
        return FollowupOpened(
            await _load(conn, followup_id), _interaction(under_way), note=_note(note_row)
        )

    async def _under_way(self, conn: AsyncConnection, channel: str, thread_key: str) -> Any:
        """The interaction of the thread's open conversation: its active one, else its last."""
        c, i = t.conversations, t.interactions
        conversation_id = (
            await conn.execute(
                select(c.c.conversation_id).where(
                    and_(
                        c.c.channel == channel, c.c.thread_key == thread_key, c.c.is_open.is_(True)
                    )
                )
            )
        ).scalar_one()
        row = await _active_interaction_row(conn, conversation_id)
        if row is None:
            row = (
                await conn.execute(
                    select(i)
                    .where(i.c.conversation_id == conversation_id)
                    .order_by(i.c.interaction_id.desc())
                    .limit(1)
                )
            ).first()
        if row is None:
            raise Conflict(f"conversation {conversation_id} is open with no interaction yet")
        return row
