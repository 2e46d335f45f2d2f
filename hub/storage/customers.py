"""Customer records' storage: the ``CustomerStore`` port on the same database as ``SqlStore``.

Each method is one transaction. Merge and unmerge lock both customers first (``FOR UPDATE``
on PostgreSQL; on SQLite the first write takes the database's write lock), then list what
they move, so the record of what moved is exactly what moved. A message recorded for the
merged customer at the same moment lands on the survivor: ``SqlStore.record_inbound``
re-reads the customer under a share lock after writing and follows ``merged_into``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, insert, or_, select, update
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.customers import IdentityRecord, Merge, Moved, Profile, SearchQuery, identity_kind_json
from hub.customers_csv import ImportOutcome, ImportRow
from hub.errors import Conflict, CustomerMerged, InvalidInput, NotFound
from hub.followups import FollowupState
from hub.lifecycle import ACTIVE_STATES
from hub.model import Identity, IdentityKind
from hub.storage import tables as t
from hub.storage.sql import LIKE_ESCAPE, SqlStore, like_pattern

ATTACHMENT_FACTS = ("attachment_id", "message_id", "filename", "content_type", "size")
_ACTIVE = [s.value for s in ACTIVE_STATES]


def _identity(row: Row[Any]) -> IdentityRecord:
    return IdentityRecord(row.identity_id, IdentityKind(row.kind), row.value, row.created_at)


def _profile(row: Row[Any], identities: Iterable[IdentityRecord]) -> Profile:
    return Profile(
        customer_id=row.customer_id,
        name=row.name,
        company=row.company,
        tier=row.tier,
        language=row.language,
        tags=tuple(row.tags or ()),
        owner_id=row.owner_id,
        custom=dict(row.custom or {}),
        created_at=row.created_at,
        updated_at=row.updated_at,
        deleted_at=row.deleted_at,
        merged_into=row.merged_into,
        erased_at=row.erased_at,
        identities=tuple(identities),
    )


def _merge(row: Row[Any]) -> Merge:
    return Merge(
        merge_id=row.merge_id,
        survivor_id=row.survivor_id,
        merged_id=row.merged_id,
        moved=Moved.from_json(row.moved or {}),
        at=row.at,
        by_user_id=row.by_user_id,
        unmerged_at=row.unmerged_at,
    )


class _Rollback(Exception):
    """Leaves a transaction without keeping anything (a dry run, or a refused import)."""


def _describe(ident: Identity) -> str:
    kind, value = identity_kind_json(ident)
    return f"{kind} {value}"


async def _ids(conn: AsyncConnection, column: Any, where: Any) -> tuple[int, ...]:
    return tuple((await conn.execute(select(column).where(where).order_by(column))).scalars())


class SqlCustomerStore:
    def __init__(self, store: SqlStore) -> None:
        self._store = store

    # ------------------------------------------------------------------ reading
    async def _profiles(self, conn: AsyncConnection, rows: list[Row[Any]]) -> list[Profile]:
        ids = [r.customer_id for r in rows]
        idents: dict[int, list[IdentityRecord]] = {i: [] for i in ids}
        if ids:
            for r in (
                await conn.execute(
                    select(t.identities)
                    .where(t.identities.c.customer_id.in_(ids))
                    .order_by(t.identities.c.identity_id)
                )
            ).all():
                idents[r.customer_id].append(_identity(r))
        return [_profile(r, idents[r.customer_id]) for r in rows]

    async def _row(
        self, conn: AsyncConnection, customer_id: int, *, lock: bool = False
    ) -> Row[Any]:
        query = select(t.customers).where(t.customers.c.customer_id == customer_id)
        if lock:
            query = query.with_for_update()
        row = (await conn.execute(query)).first()
        if row is None:
            raise NotFound(f"no customer {customer_id}")
        return row

    async def profile(self, customer_id: int) -> Profile:
        """The customer, even when deleted or merged (the caller decides what to show)."""
        async with self._store._tx() as conn:
            return (await self._profiles(conn, [await self._row(conn, customer_id)]))[0]

    async def _live(
        self, conn: AsyncConnection, customer_id: int, *, lock: bool = False
    ) -> Row[Any]:
        row = await self._row(conn, customer_id, lock=lock)
        if row.merged_into is not None:
            raise CustomerMerged(customer_id, row.merged_into)
        if row.deleted_at is not None:
            raise NotFound(f"customer {customer_id} was deleted")
        return row

    async def search(self, query: SearchQuery) -> list[Profile]:
        c, i = t.customers, t.identities
        # Hidden: deleted, erased and merged ones (a pre-chat form may merge a visitor).
        cond: list[Any] = [c.c.deleted_at.is_(None), c.c.merged_into.is_(None)]
        if query.after_id is not None:
            cond.append(c.c.customer_id > query.after_id)
        if query.identity is not None:
            cond.append(
                c.c.customer_id.in_(
                    select(i.c.customer_id).where(
                        and_(
                            i.c.kind == query.identity.kind.value,
                            i.c.value == query.identity.value,
                        )
                    )
                )
            )
        if query.text is not None:
            like = like_pattern(query.text)
            cond.append(
                or_(
                    func.lower(c.c.name).like(like, escape=LIKE_ESCAPE),
                    func.lower(c.c.company).like(like, escape=LIKE_ESCAPE),
                    c.c.customer_id.in_(
                        select(i.c.customer_id).where(
                            func.lower(i.c.value).like(like, escape=LIKE_ESCAPE)
                        )
                    ),
                )
            )
        async with self._store._tx() as conn:
            rows = (
                await conn.execute(
                    select(c).where(and_(*cond)).order_by(c.c.customer_id).limit(query.limit)
                )
            ).all()
            return await self._profiles(conn, list(rows))

    async def last_contacts(self, customer_ids: Sequence[int]) -> dict[int, datetime]:
        """When each customer's latest interaction began (those with none are left out)."""
        if not customer_ids:
            return {}
        i = t.interactions
        query = (
            select(i.c.customer_id, func.max(i.c.created_at))
            .where(i.c.customer_id.in_(list(customer_ids)))
            .group_by(i.c.customer_id)
        )
        async with self._store._tx() as conn:
            return {row[0]: row[1] for row in (await conn.execute(query)).all()}

    async def all_live(self, *, after_id: int | None, limit: int) -> list[Profile]:
        return await self.search(SearchQuery(after_id=after_id, limit=limit))

    async def owner_of(self, identity: Identity) -> int | None:
        async with self._store._tx() as conn:
            return await self._owner(conn, identity)

    async def _owner(self, conn: AsyncConnection, identity: Identity) -> int | None:
        return (
            await conn.execute(
                select(t.identities.c.customer_id).where(
                    and_(
                        t.identities.c.kind == identity.kind.value,
                        t.identities.c.value == identity.value,
                    )
                )
            )
        ).scalar()

    # ------------------------------------------------------------------ writing
    async def _add_identities(
        self, conn: AsyncConnection, customer_id: int, idents: Iterable[Identity], now: datetime
    ) -> list[int]:
        added = []
        for ident in idents:
            owner = await self._owner(conn, ident)
            if owner is not None:
                whose = "this customer" if owner == customer_id else f"customer {owner}"
                raise Conflict(f"identity {_describe(ident)} already belongs to {whose}")
            result = await conn.execute(
                insert(t.identities).values(
                    customer_id=customer_id,
                    kind=ident.kind.value,
                    value=ident.value,
                    created_at=now,
                )
            )
            key = result.inserted_primary_key
            assert key is not None
            added.append(int(key[0]))
        return added

    async def create(
        self, values: dict[str, Any], idents: list[Identity], *, now: datetime
    ) -> Profile:
        """A new customer with ``values`` (profile fields, custom already whole) and
        ``idents``; Conflict naming an identity that belongs to someone else."""
        try:
            async with self._store._tx() as conn:
                result = await conn.execute(
                    insert(t.customers).values(
                        name=values.get("name", ""),
                        company=values.get("company", ""),
                        tier=values.get("tier", "normal"),
                        language=values.get("language"),
                        tags=values.get("tags", []),
                        owner_id=values.get("owner_id"),
                        custom=values.get("custom", {}),
                        created_at=now,
                        updated_at=now,
                    )
                )
                key = result.inserted_primary_key
                assert key is not None
                customer_id = int(key[0])
                await self._add_identities(conn, customer_id, idents, now)
                return (await self._profiles(conn, [await self._row(conn, customer_id)]))[0]
        except IntegrityError:
            raise Conflict("one of these identities was taken at the same moment") from None

    async def update(self, customer_id: int, changes: dict[str, Any], *, now: datetime) -> Profile:
        """Apply profile ``changes``; ``custom`` is merged into the stored fields (None
        clears one)."""
        async with self._store._tx() as conn:
            row = await self._live(conn, customer_id, lock=True)
            values = dict(changes)
            if "custom" in values:
                custom = dict(row.custom or {})
                for name, value in values["custom"].items():
                    if value is None:
                        custom.pop(name, None)
                    else:
                        custom[name] = value
                values["custom"] = custom
            await conn.execute(
                update(t.customers)
                .where(t.customers.c.customer_id == customer_id)
                .values(**values, updated_at=now)
            )
            return (await self._profiles(conn, [await self._row(conn, customer_id)]))[0]

    async def add_identity(
        self, customer_id: int, ident: Identity, *, now: datetime
    ) -> IdentityRecord:
        try:
            async with self._store._tx() as conn:
                await self._live(conn, customer_id)
                (identity_id,) = await self._add_identities(conn, customer_id, [ident], now)
                row = (
                    await conn.execute(
                        select(t.identities).where(t.identities.c.identity_id == identity_id)
                    )
                ).one()
                return _identity(row)
        except IntegrityError:
            raise Conflict(f"identity {_describe(ident)} was taken at the same moment") from None

    async def remove_identity(self, customer_id: int, identity_id: int) -> IdentityRecord:
        async with self._store._tx() as conn:
            await self._live(conn, customer_id)
            row = (
                await conn.execute(
                    select(t.identities).where(
                        and_(
                            t.identities.c.identity_id == identity_id,
                            t.identities.c.customer_id == customer_id,
                        )
                    )
                )
            ).first()
            if row is None:
                raise NotFound(f"customer {customer_id} has no identity {identity_id}")
            await conn.execute(
                delete(t.identities).where(t.identities.c.identity_id == identity_id)
            )
            return _identity(row)

    # ------------------------------------------------------------------ merge
    async def _lock_pair(
        self, conn: AsyncConnection, first: int, second: int, now: datetime
    ) -> None:
        """Lock both customers, lower id first (no deadlock between opposite merges)."""
        for customer_id in sorted((first, second)):
            await self._row(conn, customer_id, lock=True)
        await conn.execute(
            update(t.customers)
            .where(t.customers.c.customer_id.in_([first, second]))
            .values(updated_at=now)
        )

    async def merge(
        self, survivor_id: int, merged_id: int, *, by_user_id: int | None, now: datetime
    ) -> Merge:
        """Move ``merged_id``'s identities, conversations, interactions and notes to
        ``survivor_id`` and soft-delete it (``merged_into``), recording what moved."""
        if survivor_id == merged_id:
            raise InvalidInput("from_customer_id must be another customer")
        async with self._store._tx() as conn:
            await self._lock_pair(conn, survivor_id, merged_id, now)
            await self._live(conn, survivor_id)
            await self._live(conn, merged_id)
            moved = Moved(
                identities=await _ids(
                    conn, t.identities.c.identity_id, t.identities.c.customer_id == merged_id
                ),
                conversations=await _ids(
                    conn,
                    t.conversations.c.conversation_id,
                    t.conversations.c.customer_id == merged_id,
                ),
                interactions=await _ids(
                    conn,
                    t.interactions.c.interaction_id,
                    t.interactions.c.customer_id == merged_id,
                ),
                notes=await _ids(conn, t.notes.c.note_id, t.notes.c.customer_id == merged_id),
            )
            # Follow-ups go with their conversations (and come back with them on unmerge).
            for table in (t.identities, t.conversations, t.interactions, t.notes, t.followups):
                await conn.execute(
                    update(table)
                    .where(table.c.customer_id == merged_id)
                    .values(customer_id=survivor_id)
                )
            await conn.execute(
                update(t.customers)
                .where(t.customers.c.customer_id == merged_id)
                .values(merged_into=survivor_id, deleted_at=now, updated_at=now)
            )
            result = await conn.execute(
                insert(t.customer_merges).values(
                    survivor_id=survivor_id,
                    merged_id=merged_id,
                    moved=moved.as_json(),
                    by_user_id=by_user_id,
                    at=now,
                )
            )
            key = result.inserted_primary_key
            assert key is not None
            return Merge(int(key[0]), survivor_id, merged_id, moved, now, by_user_id)

    async def unmerge(self, survivor_id: int, merged_id: int, *, now: datetime) -> Merge:
        """Undo the merge of ``merged_id`` into ``survivor_id``: what moved goes back (with
        whatever arrived since on the conversations that go back), and the merged customer
        is live again."""
        async with self._store._tx() as conn:
            await self._lock_pair(conn, survivor_id, merged_id, now)
            row = (
                await conn.execute(
                    select(t.customer_merges)
                    .where(
                        and_(
                            t.customer_merges.c.survivor_id == survivor_id,
                            t.customer_merges.c.merged_id == merged_id,
                            t.customer_merges.c.unmerged_at.is_(None),
                        )
                    )
                    .order_by(t.customer_merges.c.merge_id.desc())
                )
            ).first()
            if row is None:
                raise NotFound(f"customer {merged_id} is not merged into customer {survivor_id}")
            merged_row = await self._row(conn, merged_id)
            if merged_row.erased_at is not None:
                raise Conflict(f"customer {merged_id} was erased; it cannot come back")
            merge = _merge(row)
            moved = merge.moved
            back = {
                t.identities: (t.identities.c.identity_id, moved.identities),
                t.conversations: (t.conversations.c.conversation_id, moved.conversations),
                t.notes: (t.notes.c.note_id, moved.notes),
            }
            for table, (column, ids) in back.items():
                if ids:
                    await conn.execute(
                        update(table)
                        .where(and_(column.in_(ids), table.c.customer_id == survivor_id))
                        .values(customer_id=merged_id)
                    )
            if moved.conversations:
                await conn.execute(
                    update(t.followups)
                    .where(t.followups.c.conversation_id.in_(moved.conversations))
                    .where(t.followups.c.customer_id == survivor_id)
                    .values(customer_id=merged_id)
                )
            cond = []
            if moved.interactions:
                cond.append(t.interactions.c.interaction_id.in_(moved.interactions))
            if moved.conversations:
                cond.append(t.interactions.c.conversation_id.in_(moved.conversations))
            if cond:
                await conn.execute(
                    update(t.interactions)
                    .where(and_(or_(*cond), t.interactions.c.customer_id == survivor_id))
                    .values(customer_id=merged_id)
                )
            await conn.execute(
                update(t.customers)
                .where(t.customers.c.customer_id == merged_id)
                .values(merged_into=None, deleted_at=None, updated_at=now)
            )
            await conn.execute(
                update(t.customer_merges)
                .where(t.customer_merges.c.merge_id == merge.merge_id)
                .values(unmerged_at=now)
            )
            return Merge(
                merge.merge_id,
                survivor_id,
                merged_id,
                moved,
                merge.at,
                merge.by_user_id,
                unmerged_at=now,
            )

    # ------------------------------------------------------------------ export and erase
    async def export(self, customer_id: int) -> dict[str, Any]:
        """Everything held about the customer, as rows (the API renders them)."""
        async with self._store._tx() as conn:

            async def rows(what: Any, where: Any, order: Any) -> list[dict[str, Any]]:
                query = select(*what) if isinstance(what, tuple) else select(what)
                result = await conn.execute(query.where(where).order_by(order))
                return [r._asdict() for r in result.all()]

            profile = (await self._profiles(conn, [await self._row(conn, customer_id)]))[0]
            c, i, m = t.conversations, t.interactions, t.messages
            conversations = await rows(c, c.c.customer_id == customer_id, c.c.conversation_id)
            conv_ids = [r["conversation_id"] for r in conversations]
            interactions = await rows(i, i.c.customer_id == customer_id, i.c.interaction_id)
            inter_ids = [r["interaction_id"] for r in interactions]
            msg_ids = select(m.c.message_id).where(m.c.conversation_id.in_(conv_ids))
            attachment = t.email_attachments
            merges = t.customer_merges
            data: dict[str, Any] = {
                "profile": profile,
                "conversations": conversations,
                "messages": await rows(m, m.c.conversation_id.in_(conv_ids), m.c.message_id),
                "interactions": interactions,
                "steps": await rows(
                    t.interaction_steps,
                    t.interaction_steps.c.interaction_id.in_(inter_ids),
                    t.interaction_steps.c.step_id,
                ),
                "notes": await rows(
                    t.notes, t.notes.c.customer_id == customer_id, t.notes.c.note_id
                ),
                "followups": await rows(
                    t.followups, t.followups.c.customer_id == customer_id, t.followups.c.followup_id
                ),
                "calls": await rows(
                    t.voice_calls,
                    t.voice_calls.c.interaction_id.in_(inter_ids),
                    t.voice_calls.c.created_at,
                ),
                "email_messages": await rows(
                    t.email_messages,
                    t.email_messages.c.message_id.in_(msg_ids),
                    t.email_messages.c.message_id,
                ),
                "sms_messages": await rows(
                    t.sms_messages,
                    t.sms_messages.c.message_id.in_(msg_ids),
                    t.sms_messages.c.message_id,
                ),
                # Files are named, not included (the admin can fetch them from the console).
                "attachments": await rows(
                    tuple(attachment.c[k] for k in ATTACHMENT_FACTS),
                    attachment.c.message_id.in_(msg_ids),
                    attachment.c.attachment_id,
                ),
                "merges": [
                    _merge(r)
                    for r in (
                        await conn.execute(
                            select(merges)
                            .where(
                                or_(
                                    merges.c.survivor_id == customer_id,
                                    merges.c.merged_id == customer_id,
                                )
                            )
                            .order_by(merges.c.merge_id)
                        )
                    ).all()
                ],
            }
        return data

    async def erase(self, customer_id: int, *, now: datetime) -> dict[str, int]:
        """Remove the customer's personal data for good; interactions and their steps stay
        (channel, queue, times, agent, outcome) for statistics. Refused while one of their
        interactions is open. Returns how many of each thing was erased."""
        async with self._store._tx() as conn:
            await self._live(conn, customer_id, lock=True)
            open_ids = await _ids(
                conn,
                t.interactions.c.interaction_id,
                and_(
                    t.interactions.c.customer_id == customer_id,
                    t.interactions.c.state.in_(_ACTIVE),
                ),
            )
            if open_ids:
                raise Conflict(
                    f"customer {customer_id} has an open interaction ({open_ids[0]}); "
                    "erase them after it ends"
                )
            conv_ids = await _ids(
                conn,
                t.conversations.c.conversation_id,
                t.conversations.c.customer_id == customer_id,
            )
            inter_ids = await _ids(
                conn, t.interactions.c.interaction_id, t.interactions.c.customer_id == customer_id
            )
            msg_ids = await _ids(
                conn, t.messages.c.message_id, t.messages.c.conversation_id.in_(conv_ids)
            )
            identities = await conn.execute(
                delete(t.identities).where(t.identities.c.customer_id == customer_id)
            )
            await conn.execute(
                update(t.messages).where(t.messages.c.message_id.in_(msg_ids)).values(body="")
            )
            await conn.execute(
                update(t.messages)
                .where(
                    and_(
                        t.messages.c.message_id.in_(msg_ids),
                        t.messages.c.author_kind == "customer",
                    )
                )
                .values(author_name="")
            )
            await conn.execute(
                update(t.email_messages)
                .where(t.email_messages.c.message_id.in_(msg_ids))
                .values(
                    subject="",
                    from_address="",
                    from_name="",
                    reply_address="",
                    to_addresses="",
                    cc_addresses="",
                    in_reply_to="",
                    references="",
                    html=None,
                    raw=None,
                    warnings="",
                    status_detail=None,
                )
            )
            attachments = await conn.execute(
                update(t.email_attachments)
                .where(t.email_attachments.c.message_id.in_(msg_ids))
                .values(filename="erased", data=None, content_id=None)
            )
            await conn.execute(
                update(t.sms_messages)
                .where(t.sms_messages.c.message_id.in_(msg_ids))
                .values(customer_number="", media=[], error_message=None)
            )
            await conn.execute(
                update(t.ratings)
                .where(t.ratings.c.interaction_id.in_(inter_ids))
                .values(comment="")
            )
            await conn.execute(
                update(t.voice_calls)
                .where(t.voice_calls.c.interaction_id.in_(inter_ids))
                .values(customer_number="", recording_url=None)
            )
            thread_ids = [
                int(key.removeprefix("email:"))
                for key in (
                    await conn.execute(
                        select(t.conversations.c.thread_key).where(
                            and_(
                                t.conversations.c.conversation_id.in_(conv_ids),
                                t.conversations.c.channel == "email",
                            )
                        )
                    )
                ).scalars()
                if key.startswith("email:") and key.removeprefix("email:").isdigit()
            ]
            await conn.execute(
                update(t.email_threads)
                .where(t.email_threads.c.thread_id.in_(thread_ids))
                .values(subject="")
            )
            for conversation_id in conv_ids:
                # Thread keys hold numbers and visitor ids: replaced, and the thread closed.
                await conn.execute(
                    update(t.conversations)
                    .where(t.conversations.c.conversation_id == conversation_id)
                    .values(
                        thread_key=f"erased:{conversation_id}",
                        is_open=False,
                        closed_at=func.coalesce(t.conversations.c.closed_at, now),
                    )
                )
            await conn.execute(
                update(t.interactions)
                .where(t.interactions.c.interaction_id.in_(inter_ids))
                .values(attributes={}, wrap_up_note=None)
            )
            notes = await conn.execute(
                update(t.notes).where(t.notes.c.customer_id == customer_id).values(body="")
            )
            # Their follow-ups' notes go too, and none opens on the erased thread.
            f = t.followups
            await conn.execute(
                update(f)
                .where(f.c.customer_id == customer_id, f.c.state == FollowupState.SCHEDULED.value)
                .values(state=FollowupState.CANCELLED.value, cancelled_at=now)
            )
            await conn.execute(update(f).where(f.c.customer_id == customer_id).values(note=""))
            await conn.execute(
                update(t.customers)
                .where(t.customers.c.customer_id == customer_id)
                .values(
                    name="",
                    company="",
                    language=None,
                    tags=[],
                    owner_id=None,
                    custom={},
                    deleted_at=now,
                    erased_at=now,
                    updated_at=now,
                )
            )
        return {
            "identities": identities.rowcount,
            "messages": len(msg_ids),
            "attachments": attachments.rowcount,
            "notes": notes.rowcount,
            "conversations": len(conv_ids),
            "interactions_kept": len(inter_ids),
        }

    # ------------------------------------------------------------------ bulk import
    async def import_customers(
        self, rows: list[ImportRow], *, owners: dict[str, int], now: datetime, write: bool
    ) -> tuple[list[ImportOutcome], bool]:
        """Create each row's customer, or update the one its identities already belong to
        (adding the identities it lacks), all in one transaction. A row whose identities
        belong to different customers is an error. Nothing is kept unless ``write`` and
        every row went in. Returns each row's outcome and whether it was written."""
        outcomes: list[ImportOutcome] = []
        try:
            async with self._store._tx() as conn:
                for row in rows:
                    outcomes.append(await self._import_row(conn, row, owners, now))
                if not write or any(o.action == "error" for o in outcomes):
                    raise _Rollback
        except _Rollback:
            return outcomes, False
        return outcomes, True

    async def _import_row(
        self, conn: AsyncConnection, row: ImportRow, owners: dict[str, int], now: datetime
    ) -> ImportOutcome:
        values = dict(row.values)
        if row.owner_email is not None:
            if row.owner_email not in owners:
                return ImportOutcome(
                    row.line, "error", None, f"owner_email: no active user {row.owner_email}"
                )
            values["owner_id"] = owners[row.owner_email]
        found = {ident: await self._owner(conn, ident) for ident in row.identities}
        matched = sorted({cid for cid in found.values() if cid is not None})
        if len(matched) > 1:
            listed = " and ".join(f"customer {c}" for c in matched)
            return ImportOutcome(row.line, "error", None, f"its identities belong to {listed}")
        if not matched:
            custom = values.pop("custom", {})
            result = await conn.execute(
                insert(t.customers).values(
                    **values,
                    custom={k: v for k, v in custom.items() if v is not None},
                    created_at=now,
                    updated_at=now,
                )
            )
            key = result.inserted_primary_key
            assert key is not None
            customer_id = int(key[0])
            await self._add_identities(conn, customer_id, row.identities, now)
            return ImportOutcome(row.line, "created", customer_id, "")
        customer_id = matched[0]
        current = await self._row(conn, customer_id)
        if "custom" in values:
            custom = dict(current.custom or {})
            custom.update({k: v for k, v in values["custom"].items() if v is not None})
            values["custom"] = custom
        await conn.execute(
            update(t.customers)
            .where(t.customers.c.customer_id == customer_id)
            .values(**values, updated_at=now)
        )
        new = [ident for ident, owner in found.items() if owner is None]
        await self._add_identities(conn, customer_id, new, now)
        on = next(ident for ident, owner in found.items() if owner is not None)
        return ImportOutcome(row.line, "updated", customer_id, f"matched on {_describe(on)}")
