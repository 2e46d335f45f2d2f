"""The SQL store: the ``Store`` port on SQLAlchemy async (SQLite with aiosqlite, PostgreSQL).

Every public method is one transaction: it commits whole or not at all. State changes of an
interaction are conditional updates (``WHERE state IN <legal sources>``), so two writers can
never both win; the loser gets ``IllegalTransition``. Database failures are translated to
``Unavailable`` here, at the boundary.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import and_, event, func, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from hub.errors import Conflict, HubError, IllegalTransition, NotFound, Unavailable
from hub.lifecycle import ACTIVE_STATES, Action, advance, sources
from hub.model import (
    AuthorKind,
    Channel,
    Conversation,
    Customer,
    Direction,
    Identity,
    IdentityKind,
    Interaction,
    InteractionState,
    Message,
    Note,
    Presence,
    Role,
    Step,
    User,
)
from hub.ports import CustomerRecord, InboundContact, InboundRecorded, InteractionRecord
from hub.storage import tables as t

log = logging.getLogger(__name__)

_STATE_COLUMN = {
    InteractionState.OFFERED: "offered_at",
    InteractionState.ASSIGNED: "assigned_at",
    InteractionState.WRAP_UP: "wrap_up_at",
    InteractionState.ENDED: "ended_at",
    InteractionState.ABANDONED: "abandoned_at",
}


async def _row(conn: AsyncConnection, column: Any, value: Any) -> Row[Any] | None:
    """The row of ``column``'s table whose ``column`` equals ``value``, if any."""
    return (await conn.execute(select(column.table).where(column == value))).first()


async def _interaction_row(conn: AsyncConnection, interaction_id: int) -> Row[Any]:
    row = await _row(conn, t.interactions.c.interaction_id, interaction_id)
    if row is None:
        raise NotFound(f"no interaction {interaction_id}")
    return row


def _new_id(result: Any) -> int:
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def make_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """An async engine; SQLite gets WAL, foreign keys and a busy timeout."""
    is_sqlite = url.startswith("sqlite")
    kwargs: dict[str, Any] = {"echo": echo}
    if not is_sqlite:
        kwargs["pool_pre_ping"] = True
    engine = create_async_engine(url, **kwargs)
    if is_sqlite:

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=5000")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

    return engine


def _user(row: Row[Any]) -> User:
    return User(
        user_id=row.user_id,
        email=row.email,
        name=row.name,
        role=Role(row.role),
        created_at=row.created_at,
        disabled=bool(row.disabled),
        presence=Presence(row.presence),
    )


def _interaction(row: Row[Any]) -> Interaction:
    return Interaction(
        interaction_id=row.interaction_id,
        conversation_id=row.conversation_id,
        customer_id=row.customer_id,
        channel=Channel(row.channel),
        queue=row.queue,
        priority=row.priority,
        state=InteractionState(row.state),
        created_at=row.created_at,
        queued_at=row.queued_at,
        agent_id=row.agent_id,
        offered_at=row.offered_at,
        assigned_at=row.assigned_at,
        wrap_up_at=row.wrap_up_at,
        ended_at=row.ended_at,
        abandoned_at=row.abandoned_at,
        closed_by=row.closed_by,
        attributes=dict(row.attributes or {}),
    )


def _message(row: Row[Any]) -> Message:
    return Message(
        message_id=row.message_id,
        conversation_id=row.conversation_id,
        direction=Direction(row.direction),
        author_kind=AuthorKind(row.author_kind),
        author_name=row.author_name,
        body=row.body,
        created_at=row.created_at,
        author_id=row.author_id,
        interaction_id=row.interaction_id,
    )


def _conversation(row: Row[Any]) -> Conversation:
    return Conversation(
        conversation_id=row.conversation_id,
        customer_id=row.customer_id,
        channel=Channel(row.channel),
        is_open=bool(row.is_open),
        created_at=row.created_at,
        closed_at=row.closed_at,
        thread_key=row.thread_key,
    )


_NOTE_COLUMNS = (
    t.notes.c.note_id,
    t.notes.c.customer_id,
    t.notes.c.interaction_id,
    t.notes.c.author_id,
    t.users.c.name.label("author_name"),
    t.notes.c.body,
    t.notes.c.created_at,
)


def _note(row: Any) -> Note:
    return Note(
        note_id=row.note_id,
        customer_id=row.customer_id,
        interaction_id=row.interaction_id,
        author_id=row.author_id,
        author_name=row.author_name,
        body=row.body,
        created_at=row.created_at,
    )


class SqlStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    @asynccontextmanager
    async def _tx(self) -> AsyncIterator[AsyncConnection]:
        try:
            async with self.engine.begin() as conn:
                yield conn
        except HubError:
            raise
        except IntegrityError:
            raise
        except (OperationalError, OSError) as exc:
            log.error("database unavailable: %s", exc.__class__.__name__)
            raise Unavailable("the database is unavailable; try again shortly") from exc
        except SQLAlchemyError as exc:
            log.exception("database error")
            raise Unavailable("the database refused the operation") from exc

    async def close(self) -> None:
        await self.engine.dispose()

    async def ping(self) -> bool:
        try:
            async with self._tx() as conn:
                await conn.execute(select(1))
            return True
        except Unavailable:
            return False

    # ------------------------------------------------------------------ users and sessions
    async def create_user(
        self, *, email: str, name: str, role: Role, password_hash: str, now: datetime
    ) -> User:
        try:
            async with self._tx() as conn:
                result = await conn.execute(
                    insert(t.users).values(
                        email=email.lower(),
                        name=name,
                        role=role.value,
                        password_hash=password_hash,
                        presence=Presence.AWAY.value,
                        disabled=False,
                        created_at=now,
                    )
                )
                user_id = _new_id(result)
                row = (
                    await conn.execute(select(t.users).where(t.users.c.user_id == user_id))
                ).one()
                return _user(row)
        except IntegrityError:
            raise Conflict(f"a user with email {email.lower()} already exists") from None

    async def update_user(
        self,
        user_id: int,
        *,
        name: str | None = None,
        role: Role | None = None,
        password_hash: str | None = None,
    ) -> None:
        values: dict[str, Any] = {}
        if name is not None:
            values["name"] = name
        if role is not None:
            values["role"] = role.value
        if password_hash is not None:
            values["password_hash"] = password_hash
        async with self._tx() as conn:
            result = await conn.execute(
                update(t.users).where(t.users.c.user_id == user_id).values(**values)
            )
            if result.rowcount != 1:
                raise NotFound(f"no user {user_id}")
            if role is not None or password_hash is not None:
                await conn.execute(t.sessions.delete().where(t.sessions.c.user_id == user_id))

    async def user_by_email(self, email: str) -> tuple[User, str] | None:
        async with self._tx() as conn:
            row = (
                await conn.execute(select(t.users).where(t.users.c.email == email.lower()))
            ).first()
        return None if row is None else (_user(row), row.password_hash)

    async def user(self, user_id: int) -> User | None:
        async with self._tx() as conn:
            row = (await conn.execute(select(t.users).where(t.users.c.user_id == user_id))).first()
        return None if row is None else _user(row)

    async def users(self) -> list[User]:
        async with self._tx() as conn:
            rows = (await conn.execute(select(t.users).order_by(t.users.c.user_id))).all()
        return [_user(r) for r in rows]

    async def set_presence(self, user_id: int, presence: Presence) -> None:
        async with self._tx() as conn:
            await conn.execute(
                update(t.users).where(t.users.c.user_id == user_id).values(presence=presence.value)
            )

    async def create_session(
        self, session_hash: str, user_id: int, now: datetime, expires_at: datetime
    ) -> None:
        async with self._tx() as conn:
            await conn.execute(
                insert(t.sessions).values(
                    session_hash=session_hash,
                    user_id=user_id,
                    created_at=now,
                    expires_at=expires_at,
                )
            )

    async def session_user(self, session_hash: str, now: datetime) -> User | None:
        async with self._tx() as conn:
            row = (
                await conn.execute(
                    select(t.users)
                    .join(t.sessions, t.sessions.c.user_id == t.users.c.user_id)
                    .where(t.sessions.c.session_hash == session_hash)
                    .where(t.sessions.c.expires_at > now)
                    .where(t.users.c.disabled.is_(False))
                )
            ).first()
        return None if row is None else _user(row)

    async def delete_session(self, session_hash: str) -> None:
        async with self._tx() as conn:
            await conn.execute(t.sessions.delete().where(t.sessions.c.session_hash == session_hash))

    # ------------------------------------------------------------------ customers
    async def _customer_by_identity(
        self, conn: AsyncConnection, kind: IdentityKind, value: str
    ) -> int | None:
        return (
            await conn.execute(
                select(t.identities.c.customer_id).where(
                    and_(t.identities.c.kind == kind.value, t.identities.c.value == value)
                )
            )
        ).scalar()

    async def _new_customer(
        self, conn: AsyncConnection, name: str, now: datetime, idents: Iterable[Identity]
    ) -> int:
        result = await conn.execute(
            insert(t.customers).values(name=name, tier="normal", created_at=now, updated_at=now)
        )
        customer_id = _new_id(result)
        for ident in idents:
            await conn.execute(
                insert(t.identities).values(
                    customer_id=customer_id,
                    kind=ident.kind.value,
                    value=ident.value,
                    created_at=now,
                )
            )
        return customer_id

    async def identify(
        self, visitor: Identity, *, name: str | None, email: str | None, now: datetime
    ) -> int:
        """Link a visitor to a customer by the name and email they gave (pre-chat form).

        The visitor joins the customer who already has that email; if the visitor had an
        earlier anonymous record, its conversations move with them.
        """
        try:
            async with self._tx() as conn:
                visitor_cid = await self._customer_by_identity(conn, visitor.kind, visitor.value)
                email_cid = (
                    await self._customer_by_identity(conn, IdentityKind.EMAIL, email)
                    if email
                    else None
                )
                if visitor_cid is None and email_cid is None:
                    idents = [visitor] + ([Identity(IdentityKind.EMAIL, email)] if email else [])
                    return await self._new_customer(conn, name or "", now, idents)
                if email_cid is None:
                    assert visitor_cid is not None
                    target = visitor_cid
                    if email:
                        await conn.execute(
                            insert(t.identities).values(
                                customer_id=target, kind="email", value=email, created_at=now
                            )
                        )
                elif visitor_cid is None:
                    target = email_cid
                    await conn.execute(
                        insert(t.identities).values(
                            customer_id=target,
                            kind=visitor.kind.value,
                            value=visitor.value,
                            created_at=now,
                        )
                    )
                else:
                    target = email_cid
                    if visitor_cid != email_cid:
                        await self._move_visitor(conn, visitor, visitor_cid, email_cid, now)
                if name:
                    await conn.execute(
                        update(t.customers)
                        .where(t.customers.c.customer_id == target)
                        .where(t.customers.c.name == "")
                        .values(name=name, updated_at=now)
                    )
                return target
        except IntegrityError:
            raise Conflict("this visitor was identified at the same moment; try again") from None

    async def _move_visitor(
        self, conn: AsyncConnection, visitor: Identity, source: int, target: int, now: datetime
    ) -> None:
        await conn.execute(
            update(t.identities)
            .where(
                and_(
                    t.identities.c.kind == visitor.kind.value, t.identities.c.value == visitor.value
                )
            )
            .values(customer_id=target)
        )
        for table in (t.conversations, t.interactions, t.notes):
            await conn.execute(
                update(table).where(table.c.customer_id == source).values(customer_id=target)
            )
        left = (
            await conn.execute(
                select(func.count())
                .select_from(t.identities)
                .where(t.identities.c.customer_id == source)
            )
        ).scalar_one()
        if left == 0:
            await conn.execute(
                update(t.customers)
                .where(t.customers.c.customer_id == source)
                .values(merged_into=target, updated_at=now)
            )

    async def customer(self, customer_id: int) -> CustomerRecord:
        async with self._tx() as conn:
            row = await _row(conn, t.customers.c.customer_id, customer_id)
            if row is None:
                raise NotFound(f"no customer {customer_id}")
            if row.merged_into is not None:
                raise NotFound(f"customer {customer_id} was merged into customer {row.merged_into}")
            ident_rows = (
                await conn.execute(
                    select(t.identities)
                    .where(t.identities.c.customer_id == customer_id)
                    .order_by(t.identities.c.identity_id)
                )
            ).all()
            note_rows = (
                await conn.execute(
                    select(*_NOTE_COLUMNS)
                    .join(t.users, t.users.c.user_id == t.notes.c.author_id)
                    .where(t.notes.c.customer_id == customer_id)
                    .order_by(t.notes.c.note_id.desc())
                )
            ).all()
            records = await self._interaction_records(
                conn, t.interactions.c.customer_id == customer_id, limit=200, with_messages=True
            )
        customer = Customer(
            customer_id=row.customer_id,
            name=row.name,
            tier=row.tier,
            created_at=row.created_at,
            identities=tuple(Identity(IdentityKind(r.kind), r.value) for r in ident_rows),
        )
        return CustomerRecord(customer, tuple(_note(n) for n in note_rows), tuple(records))

    async def customer_summary(self, customer_id: int) -> Customer:
        async with self._tx() as conn:
            row = await _row(conn, t.customers.c.customer_id, customer_id)
        if row is None:
            raise NotFound(f"no customer {customer_id}")
        return Customer(row.customer_id, row.name, row.tier, row.created_at)

    # ------------------------------------------------------------------ inbound
    async def record_inbound(
        self, contact: InboundContact, *, queue: str, priority: int, now: datetime
    ) -> InboundRecorded:
        """Persist an inbound message: customer, conversation, interaction and message at once.

        Joins the open conversation of the same thread, and its active interaction if any;
        otherwise opens a new conversation and/or interaction. Races with a concurrent
        first message of the same thread are resolved by the unique indexes and a retry.
        """
        for attempt in range(3):
            try:
                async with self._tx() as conn:
                    return await self._record_inbound(conn, contact, queue, priority, now)
            except IntegrityError:
                if attempt == 2:
                    raise Conflict("too many simultaneous messages on this thread") from None
                log.info("inbound race on thread %s; retrying", contact.channel.value)
        raise AssertionError("unreachable")

    async def _record_inbound(
        self,
        conn: AsyncConnection,
        contact: InboundContact,
        queue: str,
        priority: int,
        now: datetime,
    ) -> InboundRecorded:
        ident = contact.identity
        customer_id = await self._customer_by_identity(conn, ident.kind, ident.value)
        if customer_id is None:
            customer_id = await self._new_customer(conn, contact.display_name or "", now, [ident])
        conv_row = (
            await conn.execute(
                select(t.conversations).where(
                    and_(
                        t.conversations.c.channel == contact.channel.value,
                        t.conversations.c.thread_key == contact.thread_key,
                        t.conversations.c.is_open.is_(True),
                    )
                )
            )
        ).first()
        if conv_row is None:
            result = await conn.execute(
                insert(t.conversations).values(
                    customer_id=customer_id,
                    channel=contact.channel.value,
                    thread_key=contact.thread_key,
                    is_open=True,
                    created_at=now,
                )
            )
            conversation_id = _new_id(result)
        else:
            conversation_id = conv_row.conversation_id
            customer_id = conv_row.customer_id
        inter_row = (
            await conn.execute(
                select(t.interactions).where(
                    and_(
                        t.interactions.c.conversation_id == conversation_id,
                        t.interactions.c.state.in_([s.value for s in ACTIVE_STATES]),
                    )
                )
            )
        ).first()
        created = inter_row is None
        if inter_row is None:
            result = await conn.execute(
                insert(t.interactions).values(
                    conversation_id=conversation_id,
                    customer_id=customer_id,
                    channel=contact.channel.value,
                    queue=queue,
                    priority=priority,
                    state=InteractionState.QUEUED.value,
                    created_at=now,
                    queued_at=now,
                    attributes=dict(contact.attributes),
                )
            )
            interaction_id = _new_id(result)
            await conn.execute(
                insert(t.interaction_steps).values(
                    interaction_id=interaction_id, step="queued", agent_id=None, at=now
                )
            )
            inter_row = await _interaction_row(conn, interaction_id)
        interaction = _interaction(inter_row)
        message = await self._insert_message(
            conn,
            conversation_id=conversation_id,
            interaction_id=interaction.interaction_id,
            direction=Direction.INBOUND,
            author_kind=AuthorKind.CUSTOMER,
            author_id=None,
            author_name=contact.display_name or "",
            body=contact.body,
            now=now,
        )
        return InboundRecorded(interaction, message, created)

    async def _insert_message(self, conn: AsyncConnection, **values: Any) -> Message:
        now = values.pop("now")
        values["direction"] = values["direction"].value
        values["author_kind"] = values["author_kind"].value
        result = await conn.execute(insert(t.messages).values(created_at=now, **values))
        message_id = _new_id(result)
        row = (
            await conn.execute(select(t.messages).where(t.messages.c.message_id == message_id))
        ).one()
        return _message(row)

    # ------------------------------------------------------------------ interactions
    async def transition(
        self,
        interaction_id: int,
        action: Action,
        *,
        now: datetime,
        agent_id: int | None = None,
        step: str | None = None,
        closed_by: str | None = None,
        queue: str | None = None,
    ) -> Interaction:
        """Move an interaction along its lifecycle with a conditional update (atomic claim)."""
        legal = [s.value for s in sources(action)]
        async with self._tx() as conn:
            row = await _interaction_row(conn, interaction_id)
            target = advance(InteractionState(row.state), action)
            values: dict[str, Any] = {"state": target.value}
            column = _STATE_COLUMN.get(target)
            if column:
                values[column] = now
            if action in (Action.OFFER, Action.ACCEPT):
                values["agent_id"] = agent_id
            elif action in (Action.REQUEUE, Action.ABANDON, Action.TRANSFER):
                values["agent_id"] = None
            if closed_by is not None:
                values["closed_by"] = closed_by
            if queue is not None:
                values["queue"] = queue
            cond = [
                t.interactions.c.interaction_id == interaction_id,
                t.interactions.c.state.in_(legal),
            ]
            result = await conn.execute(update(t.interactions).where(and_(*cond)).values(**values))
            if result.rowcount != 1:
                raise IllegalTransition(
                    f"interaction {interaction_id} changed meanwhile; cannot {action.value}"
                )
            await conn.execute(
                insert(t.interaction_steps).values(
                    interaction_id=interaction_id,
                    step=step or target.value,
                    agent_id=agent_id,
                    at=now,
                )
            )
            if target in (InteractionState.WRAP_UP, InteractionState.ABANDONED):
                await conn.execute(
                    update(t.conversations)
                    .where(t.conversations.c.conversation_id == row.conversation_id)
                    .where(t.conversations.c.is_open.is_(True))
                    .values(is_open=False, closed_at=now)
                )
            new_row = await _interaction_row(conn, interaction_id)
        return _interaction(new_row)

    async def add_step(
        self,
        interaction_id: int,
        step: str,
        *,
        now: datetime,
        agent_id: int | None = None,
        queue: str | None = None,
    ) -> Interaction:
        """Record a step that does not change the state (an extra offer, a move of queue)."""
        async with self._tx() as conn:
            await _interaction_row(conn, interaction_id)
            if queue is not None:
                await conn.execute(
                    update(t.interactions)
                    .where(t.interactions.c.interaction_id == interaction_id)
                    .values(queue=queue)
                )
            await conn.execute(
                insert(t.interaction_steps).values(
                    interaction_id=interaction_id, step=step, agent_id=agent_id, at=now
                )
            )
            return _interaction(await _interaction_row(conn, interaction_id))

    async def last_agent(self, customer_id: int, channel: Channel) -> int | None:
        """The agent who last handled this customer on this channel, for sticky routing."""
        async with self._tx() as conn:
            return (
                await conn.execute(
                    select(t.interactions.c.agent_id)
                    .where(t.interactions.c.customer_id == customer_id)
                    .where(t.interactions.c.channel == channel.value)
                    .where(t.interactions.c.state == InteractionState.ENDED.value)
                    .order_by(t.interactions.c.interaction_id.desc())
                    .limit(1)
                )
            ).scalar()

    async def interaction(self, interaction_id: int) -> Interaction:
        async with self._tx() as conn:
            row = await _interaction_row(conn, interaction_id)
        return _interaction(row)

    async def interactions(
        self,
        *,
        customer_id: int | None = None,
        state: InteractionState | None = None,
        channel: Channel | None = None,
        agent_id: int | None = None,
        active_only: bool = False,
        limit: int = 100,
    ) -> list[InteractionRecord]:
        cond: list[Any] = []
        if customer_id is not None:
            cond.append(t.interactions.c.customer_id == customer_id)
        if state is not None:
            cond.append(t.interactions.c.state == state.value)
        if channel is not None:
            cond.append(t.interactions.c.channel == channel.value)
        if agent_id is not None:
            cond.append(t.interactions.c.agent_id == agent_id)
        if active_only:
            cond.append(t.interactions.c.state.in_([s.value for s in ACTIVE_STATES]))
        async with self._tx() as conn:
            return await self._interaction_records(
                conn, and_(True, *cond), limit=limit, with_messages=False
            )

    async def _interaction_records(
        self, conn: AsyncConnection, where: Any, *, limit: int, with_messages: bool
    ) -> list[InteractionRecord]:
        rows = (
            await conn.execute(
                select(t.interactions, t.users.c.name.label("agent_name"))
                .outerjoin(t.users, t.users.c.user_id == t.interactions.c.agent_id)
                .where(where)
                .order_by(t.interactions.c.interaction_id.desc())
                .limit(limit)
            )
        ).all()
        ids = [r.interaction_id for r in rows]
        steps: dict[int, list[Step]] = {i: [] for i in ids}
        msgs: dict[int, list[Message]] = {r.conversation_id: [] for r in rows}
        if ids:
            for s in (
                await conn.execute(
                    select(t.interaction_steps)
                    .where(t.interaction_steps.c.interaction_id.in_(ids))
                    .order_by(t.interaction_steps.c.step_id)
                )
            ).all():
                steps[s.interaction_id].append(Step(s.step, s.at, s.agent_id))
            if with_messages:
                for m in (
                    await conn.execute(
                        select(t.messages)
                        .where(t.messages.c.conversation_id.in_(list(msgs)))
                        .order_by(t.messages.c.message_id)
                    )
                ).all():
                    msgs[m.conversation_id].append(_message(m))
        records = []
        for r in rows:
            inter = _interaction(r)
            own = [
                m
                for m in msgs.get(r.conversation_id, [])
                if m.interaction_id in (None, inter.interaction_id)
            ]
            records.append(
                InteractionRecord(
                    inter, r.agent_name, tuple(steps[inter.interaction_id]), tuple(own)
                )
            )
        return records

    async def routable(self) -> list[Interaction]:
        """Interactions the router must know about after a restart."""
        async with self._tx() as conn:
            rows = (
                await conn.execute(
                    select(t.interactions)
                    .where(t.interactions.c.state.in_([s.value for s in ACTIVE_STATES]))
                    .order_by(t.interactions.c.interaction_id)
                )
            ).all()
        return [_interaction(r) for r in rows]

    # ------------------------------------------------------- conversations, messages, notes
    async def open_conversation(self, channel: Channel, thread_key: str) -> Conversation | None:
        async with self._tx() as conn:
            row = (
                await conn.execute(
                    select(t.conversations).where(
                        and_(
                            t.conversations.c.channel == channel.value,
                            t.conversations.c.thread_key == thread_key,
                            t.conversations.c.is_open.is_(True),
                        )
                    )
                )
            ).first()
        return None if row is None else _conversation(row)

    async def conversation(self, conversation_id: int) -> Conversation:
        async with self._tx() as conn:
            row = (
                await conn.execute(
                    select(t.conversations).where(
                        t.conversations.c.conversation_id == conversation_id
                    )
                )
            ).first()
        if row is None:
            raise NotFound(f"no conversation {conversation_id}")
        return _conversation(row)

    async def latest_interaction(self, conversation_id: int) -> Interaction | None:
        async with self._tx() as conn:
            row = (
                await conn.execute(
                    select(t.interactions)
                    .where(t.interactions.c.conversation_id == conversation_id)
                    .order_by(t.interactions.c.interaction_id.desc())
                    .limit(1)
                )
            ).first()
        return None if row is None else _interaction(row)

    async def messages(self, conversation_id: int) -> list[Message]:
        async with self._tx() as conn:
            rows = (
                await conn.execute(
                    select(t.messages)
                    .where(t.messages.c.conversation_id == conversation_id)
                    .order_by(t.messages.c.message_id)
                )
            ).all()
        return [_message(r) for r in rows]

    async def first_message(self, interaction_id: int) -> Message | None:
        async with self._tx() as conn:
            row = (
                await conn.execute(
                    select(t.messages)
                    .where(t.messages.c.interaction_id == interaction_id)
                    .where(t.messages.c.direction == Direction.INBOUND.value)
                    .order_by(t.messages.c.message_id)
                    .limit(1)
                )
            ).first()
        return None if row is None else _message(row)

    async def add_reply(
        self, interaction_id: int, *, agent: User, body: str, now: datetime
    ) -> Message:
        """Store an agent's reply, only while the agent holds the interaction."""
        async with self._tx() as conn:
            row = await _interaction_row(conn, interaction_id)
            if row.agent_id != agent.user_id or row.state != InteractionState.ASSIGNED.value:
                raise IllegalTransition(
                    f"interaction {interaction_id} is not assigned to you; the reply was not sent"
                )
            return await self._insert_message(
                conn,
                conversation_id=row.conversation_id,
                interaction_id=interaction_id,
                direction=Direction.OUTBOUND,
                author_kind=AuthorKind.AGENT,
                author_id=agent.user_id,
                author_name=agent.name,
                body=body,
                now=now,
            )

    async def add_note(
        self, interaction_id: int, *, author: User, body: str, now: datetime
    ) -> Note:
        async with self._tx() as conn:
            row = await _interaction_row(conn, interaction_id)
            result = await conn.execute(
                insert(t.notes).values(
                    customer_id=row.customer_id,
                    interaction_id=interaction_id,
                    author_id=author.user_id,
                    body=body,
                    created_at=now,
                )
            )
            note_id = _new_id(result)
            note_row = (
                await conn.execute(
                    select(*_NOTE_COLUMNS)
                    .join(t.users, t.users.c.user_id == t.notes.c.author_id)
                    .where(t.notes.c.note_id == note_id)
                )
            ).one()
        return _note(note_row)
