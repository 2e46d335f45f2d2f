"""The SMS channel's storage: the ``SmsStore`` port on the same database as ``SqlStore``.

It shares the store's engine, transactions and row helpers (same package), and keeps the
same rules: every public method is one transaction; delivery status changes are conditional
updates, so a late or repeated callback can never move a message backwards.

An SMS conversation is one customer number writing to one of our numbers; its thread key
``sms:<hub number>:<customer number>`` says where replies go, whoever asks.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import and_, false, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.errors import NotFound
from hub.model import AuthorKind, Channel, Direction, Interaction, Message, User
from hub.phone import sms_numbers
from hub.ports import (
    InboundContact,
    SmsConversation,
    SmsDetails,
    SmsMedia,
    SmsMessageState,
    Unrouted,
)
from hub.satisfaction import SURVEY_AUTHOR, SURVEY_SENT_STEP
from hub.storage import tables as t
from hub.storage.sql import SqlStore, _interaction, _interaction_row, _row, insert_sms

log = logging.getLogger(__name__)

PENDING = "pending"  # stored, not yet accepted by Twilio


def _numbers(thread_key: str) -> tuple[str, str]:
    numbers = sms_numbers(thread_key)
    if numbers is None:
        raise NotFound(f"{thread_key!r} is not an SMS conversation")
    return numbers


def _media(raw: Any) -> tuple[SmsMedia, ...]:
    items = raw if isinstance(raw, list) else []
    return tuple(
        SmsMedia(str(m.get("url", "")), str(m.get("content_type", "")))
        for m in items
        if isinstance(m, dict)
    )


def _state(row: Any) -> SmsMessageState:
    return SmsMessageState(
        message_id=row.message_id,
        direction=Direction(row.direction),
        status=row.status,
        error_code=row.error_code,
        error_message=row.error_message,
        media=_media(row.media),
        keyword=row.keyword,
    )


class SqlSmsStore:
    def __init__(self, store: SqlStore) -> None:
        self._store = store

    async def sms_seen(self, message_sid: str) -> bool:
        async with self._store._tx() as conn:
            found = await conn.execute(
                select(t.sms_messages.c.message_id).where(
                    t.sms_messages.c.message_sid == message_sid
                )
            )
            return found.first() is not None

    # ------------------------------------------------------------------ opt-outs
    async def _upsert_opt_out(
        self,
        conn: AsyncConnection,
        number: str,
        *,
        opted_out: bool,
        keyword: str,
        hub_number: str | None,
        now: datetime,
    ) -> None:
        values = {
            "opted_out": opted_out,
            "keyword": keyword,
            "hub_number": hub_number,
            "changed_at": now,
        }
        o = t.sms_opt_outs
        result = await conn.execute(update(o).where(o.c.number == number).values(**values))
        if result.rowcount == 0:
            await conn.execute(insert(o).values(number=number, **values))

    async def set_opt_out(
        self, number: str, *, opted_out: bool, keyword: str, hub_number: str | None, now: datetime
    ) -> None:
        async with self._store._tx() as conn:
            await self._upsert_opt_out(
                conn, number, opted_out=opted_out, keyword=keyword, hub_number=hub_number, now=now
            )

    async def opted_out(self, number: str) -> bool:
        async with self._store._tx() as conn:
            row = await _row(conn, t.sms_opt_outs.c.number, number)
        return bool(row is not None and row.opted_out)

    async def record_keyword(
        self, contact: InboundContact, *, opted_out: bool | None, now: datetime
    ) -> Unrouted | None:
        """Keep a STOP/START/HELP text and change the opt-out, without routing anything.

        The text joins the thread's latest conversation (and its active interaction, so the
        agent on it sees it; a closed one keeps it on the customer's history) or else a new,
        closed conversation. None when Twilio's id was already stored (a retried webhook).
        """
        sms = contact.sms
        assert sms is not None
        try:
            async with self._store._tx() as conn:
                customer_id, change = await self._store._sender_customer(conn, contact, now)
                message, interaction = await self._store._keep_unrouted(
                    conn, contact, contact.thread_key, customer_id, now
                )
                await insert_sms(conn, message.message_id, sms, Direction.INBOUND, now=now)
                if opted_out is not None and sms.keyword is not None:
                    await self._upsert_opt_out(
                        conn,
                        sms.customer_number,
                        opted_out=opted_out,
                        keyword=sms.keyword,
                        hub_number=sms.hub_number,
                        now=now,
                    )
        except IntegrityError:
            if await self.sms_seen(sms.message_sid or ""):
                return None
            raise
        return Unrouted(message, interaction, customer_id, change)

    # ------------------------------------------------------------------ conversations
    async def sms_conversation(self, conversation_id: int) -> SmsConversation:
        async with self._store._tx() as conn:
            conv = await _row(conn, t.conversations.c.conversation_id, conversation_id)
            if conv is None or conv.channel != Channel.SMS.value:
                raise NotFound(f"conversation {conversation_id} is not an SMS conversation")
            hub_number, customer_number = _numbers(conv.thread_key)
            rows = (
                await conn.execute(
                    select(t.sms_messages)
                    .join(t.messages, t.messages.c.message_id == t.sms_messages.c.message_id)
                    .where(t.messages.c.conversation_id == conversation_id)
                )
            ).all()
            opt = await _row(conn, t.sms_opt_outs.c.number, customer_number)
        opted_out = bool(opt is not None and opt.opted_out)
        return SmsConversation(
            hub_number=hub_number,
            customer_number=customer_number,
            opted_out=opted_out,
            opted_out_at=opt.changed_at if opt is not None and opted_out else None,
            messages={r.message_id: _state(r) for r in rows},
        )

    async def add_sms_reply(
        self, interaction_id: int, *, agent: User, body: str, now: datetime
    ) -> tuple[Message, SmsDetails]:
        """Store an agent's reply as ``pending``, before it is handed to Twilio, only while
        the agent holds the interaction."""
        async with self._store._tx() as conn:
            message, conv = await self._store._insert_agent_reply(
                conn, interaction_id, agent, body, now
            )
            hub_number, customer_number = _numbers(conv.thread_key)
            details = SmsDetails(hub_number=hub_number, customer_number=customer_number)
            await insert_sms(
                conn, message.message_id, details, Direction.OUTBOUND, now=now, status=PENDING
            )
        return message, details

    # ------------------------------------------------------------------ satisfaction survey
    async def add_sms_survey(
        self, interaction_id: int, *, body: str, now: datetime
    ) -> tuple[Message, SmsDetails] | None:
        """Store the survey question texted after ``interaction_id`` as ``pending`` (from
        the system, on its conversation) and mark the interaction ``survey_sent``; None when
        the customer has opted out of texts (nothing is stored)."""
        async with self._store._tx() as conn:
            row = await _interaction_row(conn, interaction_id)
            conv = await _row(conn, t.conversations.c.conversation_id, row.conversation_id)
            assert conv is not None  # a foreign key
            hub_number, customer_number = _numbers(conv.thread_key)
            opt = await _row(conn, t.sms_opt_outs.c.number, customer_number)
            if opt is not None and opt.opted_out:
                return None
            message = await self._store._insert_message(
                conn,
                conversation_id=row.conversation_id,
                interaction_id=interaction_id,
                direction=Direction.OUTBOUND,
                author_kind=AuthorKind.SYSTEM,
                author_id=None,
                author_name=SURVEY_AUTHOR,
                body=body,
                now=now,
            )
            details = SmsDetails(hub_number=hub_number, customer_number=customer_number)
            await insert_sms(
                conn, message.message_id, details, Direction.OUTBOUND, now=now, status=PENDING
            )
            await conn.execute(
                insert(t.interaction_steps).values(
                    interaction_id=interaction_id, step=SURVEY_SENT_STEP, agent_id=None, at=now
                )
            )
        return message, details

    async def record_sms_rating(
        self, contact: InboundContact, *, since: datetime, now: datetime
    ) -> tuple[Message, Interaction] | None:
        """Keep a bare-digit text as the answer to the survey texted on this thread since
        ``since`` for an interaction not rated yet: stored on that interaction, not routed.
        None when there is no such survey, or the thread is open again (then the digit is
        a message to the agent), or Twilio's id was stored already (a retried webhook)."""
        sms = contact.sms
        assert sms is not None
        c, i, steps = t.conversations, t.interactions, t.interaction_steps
        try:
            async with self._store._tx() as conn:
                reopened = (
                    await conn.execute(
                        select(c.c.conversation_id).where(
                            and_(
                                c.c.channel == Channel.SMS.value,
                                c.c.thread_key == contact.thread_key,
                                c.c.is_open.is_(True),
                            )
                        )
                    )
                ).first()
                if reopened is not None:
                    return None
                asked = (
                    await conn.execute(
                        select(i)
                        .join(c, c.c.conversation_id == i.c.conversation_id)
                        .join(steps, steps.c.interaction_id == i.c.interaction_id)
                        .outerjoin(t.ratings, t.ratings.c.interaction_id == i.c.interaction_id)
                        .where(
                            and_(
                                c.c.channel == Channel.SMS.value,
                                c.c.thread_key == contact.thread_key,
                                steps.c.step == SURVEY_SENT_STEP,
                                steps.c.at >= since,
                                t.ratings.c.interaction_id.is_(None),
                            )
                        )
                        .order_by(steps.c.at.desc())
                        .limit(1)
                    )
                ).first()
                if asked is None:
                    return None
                interaction = _interaction(asked)
                message = await self._store._insert_message(
                    conn,
                    conversation_id=interaction.conversation_id,
                    interaction_id=interaction.interaction_id,
                    direction=Direction.INBOUND,
                    author_kind=AuthorKind.CUSTOMER,
                    author_id=None,
                    author_name=contact.display_name or "",
                    body=contact.body,
                    now=now,
                )
                await insert_sms(conn, message.message_id, sms, Direction.INBOUND, now=now)
        except IntegrityError:
            if await self.sms_seen(sms.message_sid or ""):
                return None
            raise
        return message, interaction

    # ------------------------------------------------------------------ delivery status
    async def sms_status(
        self,
        *,
        message_id: int | None,
        message_sid: str | None,
        status: str,
        replaces: Collection[str | None],
        error_code: str | None = None,
        error_message: str | None = None,
        now: datetime,
    ) -> tuple[Interaction | None, SmsMessageState] | None:
        """Move an outbound message to ``status`` if it now shows one of ``replaces``.

        The message is found by our id (given in the callback URL) or else Twilio's; a
        first-known Twilio id is kept. None when nothing changed (unknown message, or a
        status that is not ahead of the one shown).
        """
        s = t.sms_messages
        async with self._store._tx() as conn:
            if message_id is not None:
                row = await _row(conn, s.c.message_id, message_id)
                if row is not None and message_sid and row.message_sid not in (None, message_sid):
                    row = None  # the id in the URL and Twilio's id disagree: not ours
            else:
                row = await _row(conn, s.c.message_sid, message_sid) if message_sid else None
            if row is None or row.direction != Direction.OUTBOUND.value:
                return None
            if message_sid and row.message_sid is None:
                await conn.execute(
                    update(s)
                    .where(s.c.message_id == row.message_id)
                    .values(message_sid=message_sid)
                )
            known = [x for x in replaces if x is not None]
            allowed = or_(
                s.c.status.in_(known), s.c.status.is_(None) if None in replaces else false()
            )
            result = await conn.execute(
                update(s)
                .where(and_(s.c.message_id == row.message_id, allowed))
                .values(
                    status=status, error_code=error_code, error_message=error_message, status_at=now
                )
            )
            if result.rowcount != 1:
                return None
            fresh = await _row(conn, s.c.message_id, row.message_id)
            message = await _row(conn, t.messages.c.message_id, row.message_id)
            interaction = None
            if message is not None and message.interaction_id is not None:
                interaction = _interaction(await _interaction_row(conn, message.interaction_id))
        assert fresh is not None
        return interaction, _state(fresh)

    async def fail_unsent(self, *, older_than: datetime, now: datetime) -> int:
        """Replies stored but never confirmed by Twilio (the hub stopped mid-way) are marked
        failed, so nobody believes they went."""
        s = t.sms_messages
        async with self._store._tx() as conn:
            ids = select(t.messages.c.message_id).where(t.messages.c.created_at < older_than)
            result = await conn.execute(
                update(s)
                .where(s.c.direction == Direction.OUTBOUND.value)
                .where(s.c.message_sid.is_(None))
                .where(s.c.status == PENDING)
                .where(s.c.message_id.in_(ids))
                .values(
                    status="failed",
                    error_message="the hub stopped before Twilio confirmed this message; "
                    "it may not have been sent",
                    status_at=now,
                )
            )
            count = int(result.rowcount or 0)
        if count:
            log.warning("%d SMS replies were never confirmed by Twilio; marked failed", count)
        return count
