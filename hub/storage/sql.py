"""The SQL store: the ``Store`` port on SQLAlchemy async (SQLite with aiosqlite, PostgreSQL).

Every public method is one transaction: it commits whole or not at all. State changes of an
interaction are conditional updates (``WHERE state IN <legal sources>``), so two writers can
never both win; the loser gets ``IllegalTransition``. Database failures are translated to
``Unavailable`` here, at the boundary.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Collection, Iterable, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, event, func, insert, literal, or_, select, update
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from hub.errors import (
    Conflict,
    CustomerMerged,
    HubError,
    IllegalTransition,
    InvalidInput,
    NotFound,
    StaleRouter,
    Unavailable,
)
from hub.lifecycle import ACTIVE_STATES, Action, advance, sources
from hub.model import (
    AgentStep,
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
from hub.ports import (
    CustomerRecord,
    Identified,
    InboundContact,
    InboundRecorded,
    InteractionRecord,
    MailAttachment,
    MailDetails,
    MailMessage,
    MailThread,
    OutboxItem,
    SmsDetails,
    ThreadMatch,
    Unrouted,
)
from hub.satisfaction import Rating
from hub.storage import tables as t

log = logging.getLogger(__name__)

MAIL_THREAD_PREFIX = "email:"
DAY_RECORDS_LIMIT = 200_000  # a day of a large floor; the wallboard folds them in memory


def mail_thread_key(thread_id: int) -> str:
    """The conversations of email thread ``thread_id`` share this thread key."""
    return f"{MAIL_THREAD_PREFIX}{thread_id}"


LIKE_ESCAPE = "\\"


def like_pattern(text: str) -> str:
    """``text`` anywhere, case-insensitively, with LIKE's wildcards taken literally."""
    escaped = text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at


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


ROUTER_FENCE = "router"


async def check_fence(conn: AsyncConnection, fence: int | None) -> None:
    """Refuse the transaction when ``fence`` is not the current router's token.

    The row is read FOR SHARE (on PostgreSQL): a new router raising the epoch waits for the
    claims in flight to commit, and every claim that starts after the raise sees it. None
    (a single node, or a write that is not the router's) checks nothing.
    """
    if fence is None:
        return
    e = t.router_epoch
    current = (
        await conn.execute(
            select(e.c.epoch).where(e.c.name == ROUTER_FENCE).with_for_update(read=True)
        )
    ).scalar()
    if current != fence:
        raise StaleRouter(
            f"router token {fence} is stale (the current router holds {current}); claim refused"
        )


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
        language=row.language,
        must_change_password=bool(row.must_change_password),
        totp_enabled=bool(row.totp_enabled),
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
        disposition=row.disposition,
        wrap_up_note=row.wrap_up_note,
        attributes=dict(row.attributes or {}),
        external_id=row.external_id,
    )


async def _active_interaction_row(conn: AsyncConnection, conversation_id: int) -> Row[Any] | None:
    """The conversation's interaction that is not over yet (at most one, by a unique index)."""
    return (
        await conn.execute(
            select(t.interactions).where(
                and_(
                    t.interactions.c.conversation_id == conversation_id,
                    t.interactions.c.state.in_([s.value for s in ACTIVE_STATES]),
                )
            )
        )
    ).first()


async def _surviving_customer(conn: AsyncConnection, customer_id: int) -> int:
    """``customer_id``, or the customer it was merged into. Read under a share lock after
    this transaction has written, so a merge in progress is waited for, not missed."""
    seen = {customer_id}
    while True:
        merged_into = (
            await conn.execute(
                select(t.customers.c.merged_into)
                .where(t.customers.c.customer_id == customer_id)
                .with_for_update(read=True)
            )
        ).scalar()
        if merged_into is None or merged_into in seen:
            return customer_id
        customer_id = merged_into
        seen.add(customer_id)


def _rating(row: Any, customer_id: int) -> Rating:
    return Rating(
        interaction_id=row.interaction_id,
        customer_id=customer_id,
        agent_id=row.agent_id,
        channel=Channel(row.channel),
        score=row.score,
        comment=row.comment,
        rated_at=row.rated_at,
        first_rated_at=row.first_rated_at,
        followup_interaction_id=row.followup_interaction_id,
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
        delivered_at=row.delivered_at,
        read_at=row.read_at,
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
    func.coalesce(t.users.c.name, t.notes.c.author_name, "").label("author_name"),
    t.notes.c.body,
    t.notes.c.created_at,
    t.notes.c.kind,
)


async def insert_sms(
    conn: AsyncConnection,
    message_id: int,
    sms: SmsDetails,
    direction: Direction,
    *,
    now: datetime,
    status: str | None = None,
) -> None:
    """The SMS facts of message ``message_id``; a repeated Twilio id violates uniqueness."""
    await conn.execute(
        insert(t.sms_messages).values(
            message_id=message_id,
            message_sid=sms.message_sid,
            direction=direction.value,
            hub_number=sms.hub_number,
            customer_number=sms.customer_number,
            status=status,
            keyword=sms.keyword,
            media=[{"url": m.url, "content_type": m.content_type} for m in sms.media],
            status_at=now if status else None,
        )
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
        kind=row.kind,
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
        self,
        *,
        email: str,
        name: str,
        role: Role,
        password_hash: str,
        now: datetime,
        must_change_password: bool = False,
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
                        must_change_password=must_change_password,
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
        disabled: bool | None = None,
        must_change_password: bool | None = None,
    ) -> None:
        values: dict[str, Any] = {}
        if name is not None:
            values["name"] = name
        if role is not None:
            values["role"] = role.value
        if password_hash is not None:
            values["password_hash"] = password_hash
        if disabled is not None:
            values["disabled"] = disabled
        if must_change_password is not None:
            values["must_change_password"] = must_change_password
        async with self._tx() as conn:
            result = await conn.execute(
                update(t.users).where(t.users.c.user_id == user_id).values(**values)
            )
            if result.rowcount != 1:
                raise NotFound(f"no user {user_id}")
            if role is not None or password_hash is not None or disabled:
                await conn.execute(t.sessions.delete().where(t.sessions.c.user_id == user_id))

    async def set_totp(self, user_id: int, secret: str | None, *, enabled: bool) -> None:
        async with self._tx() as conn:
            result = await conn.execute(
                update(t.users)
                .where(t.users.c.user_id == user_id)
                .values(totp_secret=secret, totp_enabled=enabled)
            )
            if result.rowcount != 1:
                raise NotFound(f"no user {user_id}")

    async def totp_secret(self, user_id: int) -> str | None:
        async with self._tx() as conn:
            return (
                await conn.execute(
                    select(t.users.c.totp_secret).where(t.users.c.user_id == user_id)
                )
            ).scalar()

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
                    last_seen_at=now,
                )
            )

    async def session_user(self, session_hash: str, now: datetime) -> tuple[User, datetime] | None:
        async with self._tx() as conn:
            row = (
                await conn.execute(
                    select(t.users, t.sessions.c.last_seen_at)
                    .join(t.sessions, t.sessions.c.user_id == t.users.c.user_id)
                    .where(t.sessions.c.session_hash == session_hash)
                    .where(t.sessions.c.expires_at > now)
                    .where(t.users.c.disabled.is_(False))
                )
            ).first()
        return None if row is None else (_user(row), row.last_seen_at)

    async def touch_session(self, session_hash: str, now: datetime) -> None:
        async with self._tx() as conn:
            await conn.execute(
                update(t.sessions)
                .where(t.sessions.c.session_hash == session_hash)
                .values(last_seen_at=now)
            )

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
    ) -> Identified:
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
                    new = await self._new_customer(conn, name or "", now, idents)
                    return Identified(new, "created")
                change: str | None = None
                if email_cid is None:
                    assert visitor_cid is not None
                    target = visitor_cid
                    if email:
                        change = "identities"
                        await conn.execute(
                            insert(t.identities).values(
                                customer_id=target, kind="email", value=email, created_at=now
                            )
                        )
                elif visitor_cid is None:
                    target = email_cid
                    change = "identities"
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
                        change = "identities"
                        if await self._move_visitor(conn, visitor, visitor_cid, email_cid, now):
                            return Identified(target, "merged", merged_id=visitor_cid)
                if name:
                    named = await conn.execute(
                        update(t.customers)
                        .where(t.customers.c.customer_id == target)
                        .where(t.customers.c.name == "")
                        .values(name=name, updated_at=now)
                    )
                    if named.rowcount and change is None:
                        change = "profile"
                return Identified(target, change)
        except IntegrityError:
            raise Conflict("this visitor was identified at the same moment; try again") from None

    async def _move_visitor(
        self, conn: AsyncConnection, visitor: Identity, source: int, target: int, now: datetime
    ) -> bool:
        """Move the visitor and what is theirs to ``target``; True when that left ``source``
        with no identity, so it is folded into ``target`` (``merged_into``)."""
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
        return left == 0

    async def customer(self, customer_id: int) -> CustomerRecord:
        async with self._tx() as conn:
            row = await _row(conn, t.customers.c.customer_id, customer_id)
            if row is None:
                raise NotFound(f"no customer {customer_id}")
            if row.merged_into is not None:
                raise CustomerMerged(customer_id, row.merged_into)
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
                    .outerjoin(t.users, t.users.c.user_id == t.notes.c.author_id)
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

    async def customer_summary(self, customer_id: int, *, identities: bool = True) -> Customer:
        """Name, tier and (unless ``identities`` is false: routing needs only the tier) the
        phone numbers and addresses agents may know them by."""
        async with self._tx() as conn:
            row = await _row(conn, t.customers.c.customer_id, customer_id)
            if row is None:
                raise NotFound(f"no customer {customer_id}")
            if not identities:
                return Customer(row.customer_id, row.name, row.tier, row.created_at)
            ident_rows = (
                await conn.execute(
                    select(t.identities)
                    .where(t.identities.c.customer_id == customer_id)
                    .where(
                        t.identities.c.kind.in_(
                            [IdentityKind.EMAIL.value, IdentityKind.PHONE.value]
                        )
                    )
                    .order_by(t.identities.c.identity_id)
                )
            ).all()
        known = tuple(Identity(IdentityKind(r.kind), r.value) for r in ident_rows)
        return Customer(row.customer_id, row.name, row.tier, row.created_at, known)

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
        external_id = contact.task.external_id if contact.task is not None else None
        if external_id is not None:
            earlier = await self._task_by_external_id(conn, external_id)
            if earlier is not None:
                return earlier
        thread_key, thread_id = await self._thread_key(conn, contact, now)
        customer_id, customer_change = await self._sender_customer(conn, contact, now)
        conv_row = (
            await conn.execute(
                select(t.conversations).where(
                    and_(
                        t.conversations.c.channel == contact.channel.value,
                        t.conversations.c.thread_key == thread_key,
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
                    thread_key=thread_key,
                    is_open=True,
                    created_at=now,
                )
            )
            conversation_id = _new_id(result)
        else:
            conversation_id = conv_row.conversation_id
            customer_id = conv_row.customer_id
        inter_row = await _active_interaction_row(conn, conversation_id)
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
                    external_id=external_id,
                )
            )
            interaction_id = _new_id(result)
            await conn.execute(
                insert(t.interaction_steps).values(
                    interaction_id=interaction_id, step="queued", agent_id=None, at=now
                )
            )
            inter_row = await _interaction_row(conn, interaction_id)
        survivor = await _surviving_customer(conn, customer_id)
        if survivor != customer_id:
            # The customer was merged while this message was on its way: it joins the one
            # they were merged into, like the rest of their history.
            for table, key, value in (
                (t.conversations, "conversation_id", conversation_id),
                (t.interactions, "interaction_id", inter_row.interaction_id),
            ):
                await conn.execute(
                    update(table).where(table.c[key] == value).values(customer_id=survivor)
                )
            inter_row = await _interaction_row(conn, inter_row.interaction_id)
        interaction = _interaction(inter_row)
        message = await self._insert_message(
            conn,
            conversation_id=conversation_id,
            interaction_id=interaction.interaction_id,
            direction=Direction.INBOUND,
            # A task is written by the system (or person) that handed it over, not the customer.
            author_kind=AuthorKind.CUSTOMER if contact.task is None else AuthorKind.SYSTEM,
            author_id=None,
            author_name=(
                contact.display_name or "" if contact.task is None else contact.task.requested_by
            ),
            body=contact.body,
            now=now,
        )
        if contact.mail is not None and thread_id is not None:
            await self._insert_mail(conn, message.message_id, thread_id, contact.mail)
        if contact.sms is not None:
            await insert_sms(conn, message.message_id, contact.sms, Direction.INBOUND, now=now)
        return InboundRecorded(interaction, message, created, customer_change=customer_change)

    async def _task_by_external_id(
        self, conn: AsyncConnection, external_id: str
    ) -> InboundRecorded | None:
        """The task already stored under ``external_id`` (a retried request), if any."""
        row = (
            await conn.execute(
                select(t.interactions).where(t.interactions.c.external_id == external_id)
            )
        ).first()
        if row is None:
            return None
        first = (
            await conn.execute(
                select(t.messages)
                .where(t.messages.c.interaction_id == row.interaction_id)
                .order_by(t.messages.c.message_id)
                .limit(1)
            )
        ).one()
        return InboundRecorded(_interaction(row), _message(first), False, duplicate=True)

    # ------------------------------------------------------------------ email
    async def _thread_key(
        self, conn: AsyncConnection, contact: InboundContact, now: datetime
    ) -> tuple[str, int | None]:
        """The conversation thread key; for an email, its thread (opened when new)."""
        if contact.mail is None:
            return contact.thread_key, None
        thread_id = contact.mail.thread_id
        if thread_id is None:
            result = await conn.execute(
                insert(t.email_threads).values(subject=contact.mail.subject, created_at=now)
            )
            thread_id = _new_id(result)
        return mail_thread_key(thread_id), thread_id

    async def _sender_customer(
        self, conn: AsyncConnection, contact: InboundContact, now: datetime
    ) -> tuple[int, str | None]:
        """The customer the message belongs to: named by the caller, else the sender's; and
        what the message did to them: ``created`` (made for a new sender), ``profile`` (an
        email's display name filled their empty name) or None."""
        if contact.customer_id is not None:
            return contact.customer_id, None
        ident = contact.identity
        customer_id = await self._customer_by_identity(conn, ident.kind, ident.value)
        if customer_id is None:
            name = contact.display_name or ""
            return await self._new_customer(conn, name, now, [ident]), "created"
        if contact.mail is not None and contact.display_name:
            named = await conn.execute(
                update(t.customers)
                .where(t.customers.c.customer_id == customer_id)
                .where(t.customers.c.name == "")
                .values(name=contact.display_name, updated_at=now)
            )
            if named.rowcount:
                return customer_id, "profile"
        return customer_id, None

    async def _insert_mail(
        self,
        conn: AsyncConnection,
        message_id: int,
        thread_id: int,
        mail: MailDetails,
        *,
        direction: Direction = Direction.INBOUND,
        status: str | None = None,
    ) -> None:
        await conn.execute(
            insert(t.email_messages).values(
                message_id=message_id,
                thread_id=thread_id,
                direction=direction.value,
                header_message_id=mail.header_message_id[:998],
                in_reply_to=" ".join(mail.in_reply_to),
                references=" ".join(mail.references),
                subject=mail.subject,
                from_address=mail.from_address[:320],
                from_name=mail.from_name[:200],
                reply_address=mail.reply_address[:320],
                to_addresses=" ".join(mail.to_addresses),
                cc_addresses=" ".join(mail.cc_addresses),
                mailbox=mail.mailbox[:320],
                html=mail.html,
                automated=mail.automated,
                warnings="\n".join(mail.warnings),
                status=status,
                raw=mail.raw,
            )
        )
        for item in mail.attachments:
            await conn.execute(
                insert(t.email_attachments).values(
                    message_id=message_id,
                    filename=item.filename[:255],
                    content_type=item.content_type[:255],
                    size=item.size,
                    content_id=item.content_id[:998] if item.content_id else None,
                    inline=item.inline,
                    data=item.data,
                )
            )

    async def customer_by_identity(self, identity: Identity) -> int | None:
        async with self._tx() as conn:
            return await self._customer_by_identity(conn, identity.kind, identity.value)

    async def received_mail(
        self, header_message_id: str, from_address: str, *, subject: str, body: str
    ) -> Message | None:
        """The inbound email already stored with this Message-ID, sender, subject and text."""
        e = t.email_messages
        async with self._tx() as conn:
            row = (
                await conn.execute(
                    select(t.messages)
                    .join(e, e.c.message_id == t.messages.c.message_id)
                    .where(e.c.header_message_id == header_message_id[:998])
                    .where(e.c.direction == Direction.INBOUND.value)
                    .where(e.c.from_address == from_address[:320])
                    .where(e.c.subject == subject)
                    .where(t.messages.c.body == body)
                    .order_by(t.messages.c.message_id)
                    .limit(1)
                )
            ).first()
        return None if row is None else _message(row)

    async def thread_matches(
        self, message_ids: tuple[str, ...], thread_ids: tuple[int, ...]
    ) -> list[ThreadMatch]:
        """Threads that hold one of ``message_ids`` (received or sent) or have these numbers.

        ``rank`` is the position in the argument, so the caller's order (strongest first)
        decides between several matches.
        """
        matches: list[ThreadMatch] = []
        ids = [m[:998] for m in message_ids]
        async with self._tx() as conn:
            if ids:
                rows = (
                    await conn.execute(
                        select(
                            t.email_messages.c.header_message_id,
                            t.email_messages.c.thread_id,
                            t.conversations.c.customer_id,
                        )
                        .join(t.messages, t.messages.c.message_id == t.email_messages.c.message_id)
                        .join(
                            t.conversations,
                            t.conversations.c.conversation_id == t.messages.c.conversation_id,
                        )
                        .where(t.email_messages.c.header_message_id.in_(ids))
                    )
                ).all()
                for r in rows:
                    matches.append(
                        ThreadMatch(r.thread_id, r.customer_id, "message_id", ids.index(r[0]))
                    )
            for rank, thread_id in enumerate(thread_ids):
                customer_id = (
                    await conn.execute(
                        select(t.conversations.c.customer_id)
                        .where(t.conversations.c.channel == Channel.EMAIL.value)
                        .where(t.conversations.c.thread_key == mail_thread_key(thread_id))
                        .order_by(t.conversations.c.conversation_id)
                        .limit(1)
                    )
                ).scalar()
                if customer_id is not None:
                    matches.append(ThreadMatch(thread_id, customer_id, "token", rank))
        return sorted(matches, key=lambda m: (m.via != "message_id", m.rank))

    async def record_unrouted(self, contact: InboundContact, *, now: datetime) -> Unrouted:
        """Keep a message that needs no answer (an auto-reply, a bounce) on its thread.

        It joins the thread's latest conversation (and its active interaction, if any) or a
        new, closed conversation; it never opens an interaction.
        """
        async with self._tx() as conn:
            thread_key, thread_id = await self._thread_key(conn, contact, now)
            customer_id, change = await self._sender_customer(conn, contact, now)
            message, interaction = await self._keep_unrouted(
                conn, contact, thread_key, customer_id, now
            )
            if contact.mail is not None and thread_id is not None:
                await self._insert_mail(conn, message.message_id, thread_id, contact.mail)
        return Unrouted(message, interaction, customer_id, change)

    async def _keep_unrouted(
        self,
        conn: AsyncConnection,
        contact: InboundContact,
        thread_key: str,
        customer_id: int,
        now: datetime,
    ) -> tuple[Message, Interaction | None]:
        """Store an inbound message that opens no work (an auto-reply, a bounce, an SMS
        keyword) on the thread's latest conversation and its active interaction, if any, or
        on a new, closed conversation."""
        conv_row = (
            await conn.execute(
                select(t.conversations)
                .where(t.conversations.c.channel == contact.channel.value)
                .where(t.conversations.c.thread_key == thread_key)
                .order_by(
                    t.conversations.c.is_open.desc(), t.conversations.c.conversation_id.desc()
                )
                .limit(1)
            )
        ).first()
        if conv_row is None:
            result = await conn.execute(
                insert(t.conversations).values(
                    customer_id=customer_id,
                    channel=contact.channel.value,
                    thread_key=thread_key,
                    is_open=False,
                    created_at=now,
                    closed_at=now,
                )
            )
            conversation_id = _new_id(result)
        else:
            conversation_id = conv_row.conversation_id
        inter_row = await _active_interaction_row(conn, conversation_id)
        interaction = None if inter_row is None else _interaction(inter_row)
        message = await self._insert_message(
            conn,
            conversation_id=conversation_id,
            interaction_id=None if interaction is None else interaction.interaction_id,
            direction=Direction.INBOUND,
            author_kind=AuthorKind.CUSTOMER,
            author_id=None,
            author_name=contact.display_name or "",
            body=contact.body,
            now=now,
        )
        return message, interaction

    async def mail_thread(self, conversation_id: int) -> MailThread:
        """Every message of the email thread that ``conversation_id`` belongs to."""
        async with self._tx() as conn:
            conv = await _row(conn, t.conversations.c.conversation_id, conversation_id)
            if conv is None or conv.channel != Channel.EMAIL.value:
                raise NotFound(f"conversation {conversation_id} is not an email conversation")
            thread_id = int(conv.thread_key.removeprefix(MAIL_THREAD_PREFIX))
            thread = await _row(conn, t.email_threads.c.thread_id, thread_id)
            e = t.email_messages
            rows = (
                await conn.execute(
                    select(
                        t.messages,
                        *[c for c in e.c if c.name not in ("message_id", "raw", "direction")],
                    )
                    .join(
                        t.conversations,
                        t.conversations.c.conversation_id == t.messages.c.conversation_id,
                    )
                    .outerjoin(e, e.c.message_id == t.messages.c.message_id)
                    .where(t.conversations.c.channel == Channel.EMAIL.value)
                    .where(t.conversations.c.thread_key == conv.thread_key)
                    .order_by(t.messages.c.message_id)
                )
            ).all()
            ids = [r.message_id for r in rows]
            files: dict[int, list[tuple[int, MailAttachment]]] = {i: [] for i in ids}
            if ids:
                a = t.email_attachments
                for f in (
                    await conn.execute(
                        select(
                            *[c for c in a.c if c.name != "data"],
                            (a.c.data.is_not(None)).label("kept"),
                        )
                        .where(a.c.message_id.in_(ids))
                        .order_by(a.c.attachment_id)
                    )
                ).all():
                    files[f.message_id].append(
                        (
                            f.attachment_id,
                            MailAttachment(
                                f.filename,
                                f.content_type,
                                f.size,
                                b"" if f.kept else None,
                                f.content_id,
                                bool(f.inline),
                            ),
                        )
                    )
        messages = []
        for r in rows:
            details = MailDetails(
                header_message_id=r.header_message_id or "",
                subject=r.subject if r.subject is not None else (thread.subject if thread else ""),
                from_address=r.from_address or "",
                mailbox=r.mailbox or "",
                reply_address=r.reply_address or "",
                from_name=r.from_name or "",
                in_reply_to=tuple((r.in_reply_to or "").split()),
                references=tuple((r.references or "").split()),
                to_addresses=tuple((r.to_addresses or "").split()),
                cc_addresses=tuple((r.cc_addresses or "").split()),
                html=r.html,
                attachments=tuple(f for _, f in files[r.message_id]),
                automated=r.automated,
                warnings=tuple(w for w in (r.warnings or "").split("\n") if w),
                thread_id=thread_id,
            )
            messages.append(
                MailMessage(
                    _message(r),
                    details,
                    r.status,
                    r.status_detail,
                    tuple(i for i, _ in files[r.message_id]),
                )
            )
        return MailThread(
            thread_id, thread.subject if thread else "", conv.customer_id, tuple(messages)
        )

    async def attachment(self, attachment_id: int) -> MailAttachment:
        a = t.email_attachments
        async with self._tx() as conn:
            row = (
                await conn.execute(
                    select(a, t.conversations.c.customer_id)
                    .join(t.messages, t.messages.c.message_id == a.c.message_id)
                    .join(
                        t.conversations,
                        t.conversations.c.conversation_id == t.messages.c.conversation_id,
                    )
                    .where(a.c.attachment_id == attachment_id)
                )
            ).first()
        if row is None:
            raise NotFound(f"no attachment {attachment_id}")
        if row.data is None:
            raise NotFound(
                f"attachment {attachment_id} was over the size limit and is only in the raw message"
            )
        return MailAttachment(
            row.filename,
            row.content_type,
            row.size,
            row.data,
            row.content_id,
            bool(row.inline),
            customer_id=row.customer_id,
        )

    async def enqueue_mail(
        self,
        interaction_id: int,
        *,
        agent: User,
        body: str,
        details: MailDetails,
        payload: bytes,
        recipients: tuple[str, ...],
        now: datetime,
    ) -> Message:
        """Store an agent's email reply and put it in the outbox, in one transaction."""
        async with self._tx() as conn:
            message, conv = await self._insert_agent_reply(conn, interaction_id, agent, body, now)
            await self._outbox_mail(conn, message, conv, details, payload, recipients, now)
        return message

    async def enqueue_system_mail(
        self,
        interaction_id: int,
        *,
        author_name: str,
        body: str,
        details: MailDetails,
        payload: bytes,
        recipients: tuple[str, ...],
        now: datetime,
    ) -> Message:
        """Store a mail the hub writes itself on the interaction's thread (a satisfaction
        survey: whatever the interaction's state) and put it in the outbox, in one
        transaction."""
        async with self._tx() as conn:
            row = await _interaction_row(conn, interaction_id)
            conv = await _row(conn, t.conversations.c.conversation_id, row.conversation_id)
            assert conv is not None  # a foreign key
            message = await self._insert_message(
                conn,
                conversation_id=row.conversation_id,
                interaction_id=interaction_id,
                direction=Direction.OUTBOUND,
                author_kind=AuthorKind.SYSTEM,
                author_id=None,
                author_name=author_name,
                body=body,
                now=now,
            )
            await self._outbox_mail(conn, message, conv, details, payload, recipients, now)
        return message

    async def _outbox_mail(
        self,
        conn: AsyncConnection,
        message: Message,
        conv: Row[Any],
        details: MailDetails,
        payload: bytes,
        recipients: tuple[str, ...],
        now: datetime,
    ) -> None:
        """The outbound mail row and the outbox row of a stored ``message``."""
        thread_id = int(conv.thread_key.removeprefix(MAIL_THREAD_PREFIX))
        await self._insert_mail(
            conn,
            message.message_id,
            thread_id,
            details,
            direction=Direction.OUTBOUND,
            status="queued",
        )
        await conn.execute(
            insert(t.email_outbox).values(
                message_id=message.message_id,
                state="queued",
                sender=details.mailbox,
                recipients=" ".join(recipients),
                payload=payload,
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )

    async def claim_outbox(self, *, now: datetime, lease_s: float, limit: int) -> list[OutboxItem]:
        """Claim due outbox rows (a conditional update each), so no two senders take one.

        A row left ``sending`` by a sender that stopped mid-way is due again once its lease
        has run out.
        """
        o = t.email_outbox
        due = or_(
            and_(o.c.state == "queued", o.c.next_attempt_at <= now),
            and_(o.c.state == "sending", o.c.lease_until < now),
        )
        claimed = []
        async with self._tx() as conn:
            rows = (
                await conn.execute(select(o).where(due).order_by(o.c.outbox_id).limit(limit))
            ).all()
            for r in rows:
                result = await conn.execute(
                    update(o)
                    .where(and_(o.c.outbox_id == r.outbox_id, due))
                    .values(
                        state="sending",
                        lease_until=now + timedelta(seconds=lease_s),
                        attempts=o.c.attempts + 1,
                    )
                )
                if result.rowcount == 1:
                    claimed.append(
                        OutboxItem(
                            r.outbox_id,
                            r.message_id,
                            r.sender,
                            tuple(r.recipients.split()),
                            r.payload,
                            r.attempts + 1,
                        )
                    )
        return claimed

    async def _outbox_update(
        self, outbox_id: int, outbox: dict[str, Any], status: str, detail: str | None
    ) -> Interaction | None:
        """Move a claimed row on; the interaction of its message when the message's status
        changed (None when the claim was lost, or a bounce already marked it failed)."""
        async with self._tx() as conn:
            message_id = (
                await conn.execute(
                    update(t.email_outbox)
                    .where(t.email_outbox.c.outbox_id == outbox_id)
                    .where(t.email_outbox.c.state == "sending")
                    .values(**outbox)
                    .returning(t.email_outbox.c.message_id)
                )
            ).scalar()
            if message_id is None:
                return None
            changed = await conn.execute(
                update(t.email_messages)
                .where(t.email_messages.c.message_id == message_id)
                .where(t.email_messages.c.status != "failed")
                .values(status=status, status_detail=detail)
            )
            if changed.rowcount != 1:
                return None
            message = await _row(conn, t.messages.c.message_id, message_id)
            if message is None or message.interaction_id is None:
                return None
            return _interaction(await _interaction_row(conn, message.interaction_id))

    async def outbox_sent(self, outbox_id: int, *, now: datetime) -> Interaction | None:
        return await self._outbox_update(
            outbox_id, {"state": "sent", "sent_at": now, "lease_until": None}, "sent", None
        )

    async def outbox_retry(
        self, outbox_id: int, *, error: str, next_attempt_at: datetime
    ) -> Interaction | None:
        return await self._outbox_update(
            outbox_id,
            {
                "state": "queued",
                "next_attempt_at": next_attempt_at,
                "lease_until": None,
                "last_error": error,
            },
            "queued",
            f"not sent yet, will retry: {error}",
        )

    async def outbox_failed(
        self, outbox_id: int, *, error: str, now: datetime
    ) -> Interaction | None:
        return await self._outbox_update(
            outbox_id,
            {"state": "failed", "lease_until": None, "last_error": error},
            "failed",
            error,
        )

    async def next_outbox_at(self) -> datetime | None:
        o = t.email_outbox
        async with self._tx() as conn:
            queued = (
                await conn.execute(
                    select(func.min(o.c.next_attempt_at)).where(o.c.state == "queued")
                )
            ).scalar()
            leased = (
                await conn.execute(select(func.min(o.c.lease_until)).where(o.c.state == "sending"))
            ).scalar()
        found = [_utc(x) for x in (queued, leased) if x is not None]
        return min(found) if found else None

    async def mark_bounced(self, header_message_ids: tuple[str, ...], *, reason: str) -> int:
        """A bounce names messages we sent: mark them failed, with the reason."""
        if not header_message_ids:
            return 0
        async with self._tx() as conn:
            result = await conn.execute(
                update(t.email_messages)
                .where(t.email_messages.c.direction == Direction.OUTBOUND.value)
                .where(t.email_messages.c.header_message_id.in_(header_message_ids))
                .values(status="failed", status_detail=f"bounced: {reason or 'undeliverable'}")
            )
            return int(result.rowcount or 0)

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

    async def _open_on_thread(
        self,
        conn: AsyncConnection,
        *,
        customer_id: int,
        channel: str,
        thread_key: str,
        queue: str,
        priority: int,
        attributes: Mapping[str, str],
        author_name: str,
        body: str,
        now: datetime,
    ) -> tuple[Interaction, Message] | None:
        """Open a queued interaction on an existing channel thread (a new conversation of it,
        so a reply reaches the customer the way they wrote), its first message ``body`` from
        the system: the hub reaching out (a low rating's or an agent's follow-up). None,
        writing nothing, when the thread has an open conversation (a contact under way)."""
        c = t.conversations
        busy = (
            await conn.execute(
                select(c.c.conversation_id).where(
                    and_(
                        c.c.channel == channel, c.c.thread_key == thread_key, c.c.is_open.is_(True)
                    )
                )
            )
        ).first()
        if busy is not None:
            return None
        conversation_id = _new_id(
            await conn.execute(
                insert(c).values(
                    customer_id=customer_id,
                    channel=channel,
                    thread_key=thread_key,
                    is_open=True,
                    created_at=now,
                )
            )
        )
        interaction_id = _new_id(
            await conn.execute(
                insert(t.interactions).values(
                    conversation_id=conversation_id,
                    customer_id=customer_id,
                    channel=channel,
                    queue=queue,
                    priority=priority,
                    state=InteractionState.QUEUED.value,
                    created_at=now,
                    queued_at=now,
                    attributes=dict(attributes),
                )
            )
        )
        await conn.execute(
            insert(t.interaction_steps).values(
                interaction_id=interaction_id, step="queued", agent_id=None, at=now
            )
        )
        message = await self._insert_message(
            conn,
            conversation_id=conversation_id,
            interaction_id=interaction_id,
            direction=Direction.INBOUND,
            author_kind=AuthorKind.SYSTEM,
            author_id=None,
            author_name=author_name,
            body=body,
            now=now,
        )
        return _interaction(await _interaction_row(conn, interaction_id)), message

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
        fence: int | None = None,
    ) -> Interaction:
        """Move an interaction along its lifecycle with a conditional update (atomic claim);
        with ``fence``, only while that is the current router's token (``check_fence``)."""
        legal = [s.value for s in sources(action)]
        async with self._tx() as conn:
            await check_fence(conn, fence)
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
            if target in (
                InteractionState.WRAP_UP,
                InteractionState.ENDED,
                InteractionState.ABANDONED,
            ):
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
        fence: int | None = None,
    ) -> Interaction:
        """Record a step that does not change the state (an extra offer, a move of queue)."""
        async with self._tx() as conn:
            await check_fence(conn, fence)
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
        """The agent who last took this customer on this channel (still working on it, in
        wrap-up or done), for sticky routing."""
        taken = (InteractionState.ASSIGNED, InteractionState.WRAP_UP, InteractionState.ENDED)
        async with self._tx() as conn:
            return (
                await conn.execute(
                    select(t.interactions.c.agent_id)
                    .where(t.interactions.c.customer_id == customer_id)
                    .where(t.interactions.c.channel == channel.value)
                    .where(t.interactions.c.state.in_([s.value for s in taken]))
                    .where(t.interactions.c.agent_id.is_not(None))
                    .order_by(t.interactions.c.interaction_id.desc())
                    .limit(1)
                )
            ).scalar()

    async def interaction(self, interaction_id: int) -> Interaction:
        async with self._tx() as conn:
            row = await _interaction_row(conn, interaction_id)
        return _interaction(row)

    async def interaction_record(self, interaction_id: int) -> InteractionRecord:
        """One interaction whole: its steps, its messages, its agent's name and rating."""
        async with self._tx() as conn:
            found = await self._interaction_records(
                conn, t.interactions.c.interaction_id == interaction_id, limit=1, with_messages=True
            )
        if not found:
            raise NotFound(f"no interaction {interaction_id}")
        return found[0]

    async def interactions(
        self,
        *,
        customer_id: int | None = None,
        state: InteractionState | None = None,
        channel: Channel | None = None,
        agent_id: int | None = None,
        active_only: bool = False,
        limit: int = 100,
        queue: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        before_id: int | None = None,
        queues: Collection[str] | None = None,
    ) -> list[InteractionRecord]:
        """Newest first; ``since``/``until`` bound when they came in, ``before_id`` is the
        cursor (only interactions older than it)."""
        cond: list[Any] = []
        if queue is not None:
            cond.append(t.interactions.c.queue == queue)
        if since is not None:
            cond.append(t.interactions.c.created_at >= since)
        if until is not None:
            cond.append(t.interactions.c.created_at < until)
        if before_id is not None:
            cond.append(t.interactions.c.interaction_id < before_id)
        if queues is not None:
            cond.append(t.interactions.c.queue.in_(sorted(queues)))
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
        rated: dict[int, Any] = {}
        if ids:
            rated = {
                row.interaction_id: row
                for row in (
                    await conn.execute(select(t.ratings).where(t.ratings.c.interaction_id.in_(ids)))
                ).all()
            }
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
            rating = rated.get(inter.interaction_id)
            records.append(
                InteractionRecord(
                    inter,
                    r.agent_name,
                    tuple(steps[inter.interaction_id]),
                    tuple(own),
                    None if rating is None else _rating(rating, inter.customer_id),
                )
            )
        return records

    async def day_records(self, start: datetime, end: datetime) -> list[InteractionRecord]:
        """Interactions with a step in ``[start, end)``, and every active one, with their
        steps (no messages): what the wallboard's day and the CSV export are made of."""
        stepped = (
            select(t.interaction_steps.c.interaction_id)
            .where(and_(t.interaction_steps.c.at >= start, t.interaction_steps.c.at < end))
            .distinct()
        )
        where = or_(
            t.interactions.c.interaction_id.in_(stepped),
            t.interactions.c.state.in_([s.value for s in ACTIVE_STATES]),
        )
        async with self._tx() as conn:
            records = await self._interaction_records(
                conn, where, limit=DAY_RECORDS_LIMIT, with_messages=False
            )
        records.reverse()  # oldest first
        return records

    async def add_agent_step(self, step: AgentStep) -> None:
        async with self._tx() as conn:
            await conn.execute(
                insert(t.agent_steps).values(
                    agent_id=step.agent_id,
                    state=step.state.value,
                    reason=step.reason,
                    by_user_id=step.by,
                    at=step.at,
                )
            )

    async def agent_steps(self, start: datetime, end: datetime) -> list[AgentStep]:
        """Agents' state steps in ``[start, end)``, after each agent's last one before
        ``start`` (their state at ``start``), oldest first."""
        s = t.agent_steps
        last_before = (
            select(func.max(s.c.agent_step_id)).where(s.c.at < start).group_by(s.c.agent_id)
        )
        async with self._tx() as conn:
            rows = (
                await conn.execute(
                    select(s)
                    .where(
                        or_(s.c.agent_step_id.in_(last_before), and_(s.c.at >= start, s.c.at < end))
                    )
                    .order_by(s.c.at, s.c.agent_step_id)
                )
            ).all()
        return [
            AgentStep(r.agent_id, Presence(r.state), r.at, r.reason, r.by_user_id) for r in rows
        ]

    async def delete_sessions_of(self, user_id: int) -> int:
        """Sign a user out everywhere (a supervisor logged them out)."""
        async with self._tx() as conn:
            result = await conn.execute(t.sessions.delete().where(t.sessions.c.user_id == user_id))
        return int(result.rowcount or 0)

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

    async def mark_replies_seen(
        self,
        channel: Channel,
        thread_key: str,
        message_ids: Collection[int],
        *,
        read: bool,
        now: datetime,
    ) -> list[Message]:
        """Record that the customer of ``thread_key`` received (or, with ``read``, saw) these
        replies; returns the ones that changed (a repeated receipt changes nothing). Read
        implies delivered. Refused whole (``NotFound``) when an id is not a message of this
        customer's conversations on ``channel``, and (``InvalidInput``) when one is theirs
        but not an agent's reply."""
        m, c = t.messages, t.conversations
        ids = sorted(set(message_ids))
        async with self._tx() as conn:
            rows = (
                await conn.execute(
                    select(m.c.message_id, m.c.direction, m.c.author_kind)
                    .join(c, c.c.conversation_id == m.c.conversation_id)
                    .where(m.c.message_id.in_(ids))
                    .where(c.c.channel == channel.value)
                    .where(c.c.thread_key == thread_key)
                )
            ).all()
            found = {r.message_id: r for r in rows}
            missing = [i for i in ids if i not in found]
            if missing:
                raise NotFound(f"no message {missing[0]} in your conversation")
            for i in ids:
                r = found[i]
                if (
                    r.direction != Direction.OUTBOUND.value
                    or r.author_kind != AuthorKind.AGENT.value
                ):
                    raise InvalidInput(
                        f"message {i} is not an agent's reply; only replies are acknowledged"
                    )
            if read:
                change = (
                    update(m)
                    .where(m.c.message_id.in_(ids), m.c.read_at.is_(None))
                    .values(
                        read_at=now,
                        delivered_at=func.coalesce(
                            m.c.delivered_at, literal(now, m.c.delivered_at.type)
                        ),
                    )
                )
            else:
                change = (
                    update(m)
                    .where(m.c.message_id.in_(ids), m.c.delivered_at.is_(None))
                    .values(delivered_at=now)
                )
            changed = (await conn.execute(change.returning(m.c.message_id))).scalars().all()
            if not changed:
                return []
            out = (
                await conn.execute(
                    select(m).where(m.c.message_id.in_(list(changed))).order_by(m.c.message_id)
                )
            ).all()
        return [_message(r) for r in out]

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
            message, _ = await self._insert_agent_reply(conn, interaction_id, agent, body, now)
        return message

    async def _insert_agent_reply(
        self, conn: AsyncConnection, interaction_id: int, agent: User, body: str, now: datetime
    ) -> tuple[Message, Row[Any]]:
        """Store ``agent``'s reply on the interaction they hold (refused whole otherwise);
        returns the message and the interaction's conversation row."""
        row = await _interaction_row(conn, interaction_id)
        if row.agent_id != agent.user_id or row.state != InteractionState.ASSIGNED.value:
            raise IllegalTransition(
                f"interaction {interaction_id} is not assigned to you; the reply was not sent"
            )
        conv = await _row(conn, t.conversations.c.conversation_id, row.conversation_id)
        assert conv is not None  # a foreign key
        message = await self._insert_message(
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
        return message, conv

    async def add_note(
        self,
        interaction_id: int,
        *,
        author: User | str,
        body: str,
        now: datetime,
        kind: str = "note",
    ) -> Note:
        """A private note on an interaction, by a staff member or an API key (its name)."""
        by_user = isinstance(author, User)
        async with self._tx() as conn:
            row = await _interaction_row(conn, interaction_id)
            result = await conn.execute(
                insert(t.notes).values(
                    customer_id=row.customer_id,
                    interaction_id=interaction_id,
                    author_id=author.user_id if isinstance(author, User) else None,
                    author_name=None if by_user else author,
                    body=body,
                    created_at=now,
                    kind=kind,
                )
            )
            note_id = _new_id(result)
            note_row = (
                await conn.execute(
                    select(*_NOTE_COLUMNS)
                    .outerjoin(t.users, t.users.c.user_id == t.notes.c.author_id)
                    .where(t.notes.c.note_id == note_id)
                )
            ).one()
        return _note(note_row)

    async def interaction_notes(self, interaction_id: int, *, kind: str) -> list[Note]:
        """The notes of one kind kept with an interaction, oldest first."""
        async with self._tx() as conn:
            rows = (
                await conn.execute(
                    select(*_NOTE_COLUMNS)
                    .outerjoin(t.users, t.users.c.user_id == t.notes.c.author_id)
                    .where(t.notes.c.interaction_id == interaction_id, t.notes.c.kind == kind)
                    .order_by(t.notes.c.note_id)
                )
            ).all()
        return [_note(r) for r in rows]

    async def set_wrap_up(
        self,
        interaction_id: int,
        *,
        agent_id: int,
        disposition: str | None,
        note: str | None,
        now: datetime,
    ) -> Interaction:
        """Keep the agent's outcome of an interaction they hold or wrap up (checked here too,
        so a late save after a transfer or the end of wrap-up changes nothing)."""
        async with self._tx() as conn:
            result = await conn.execute(
                update(t.interactions)
                .where(
                    t.interactions.c.interaction_id == interaction_id,
                    t.interactions.c.agent_id == agent_id,
                    t.interactions.c.state.in_(
                        [InteractionState.ASSIGNED.value, InteractionState.WRAP_UP.value]
                    ),
                )
                .values(disposition=disposition, wrap_up_note=note)
            )
            if result.rowcount != 1:
                await _interaction_row(conn, interaction_id)  # NotFound when it does not exist
                raise Conflict(f"interaction {interaction_id} is no longer yours to wrap up")
            await conn.execute(
                insert(t.interaction_steps).values(
                    interaction_id=interaction_id, step="wrap_up_saved", agent_id=agent_id, at=now
                )
            )
            return _interaction(await _interaction_row(conn, interaction_id))

    async def set_language(self, user_id: int, language: str | None) -> None:
        async with self._tx() as conn:
            result = await conn.execute(
                update(t.users).where(t.users.c.user_id == user_id).values(language=language)
            )
            if result.rowcount != 1:
                raise NotFound(f"no user {user_id}")
