"""Calls agents place from the console (the ``OutboundCallStore`` port).

A click-to-call is written in one transaction: a conversation of its own (thread key
``voice:<call key>``), an interaction born assigned to the agent who placed it (it is never
queued or offered to anyone else), the agent's line on the record, and the call's
``voice_calls`` row in stage ``dialing``. An agent with a call already live is refused here,
inside the same transaction, so two clicks cannot place two calls.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select

from hub.errors import Conflict
from hub.model import AuthorKind, Channel, Direction, Interaction, InteractionState, User
from hub.ports import VoiceCall
from hub.storage import tables as t
from hub.storage.sql import SqlStore, _interaction, _interaction_row, _new_id
from hub.storage.voice import _call

# Stages in which an agent is on (or being put on) a call.
LIVE_STAGES = ("ringing", "callback_ringing", "dialing", "connected")


class SqlOutboundStore:
    def __init__(self, store: SqlStore) -> None:
        self._store = store

    async def record_outbound_call(
        self,
        call_key: str,
        *,
        agent: User,
        customer_id: int,
        customer_number: str,
        hub_number: str,
        queue: str,
        now: datetime,
    ) -> tuple[Interaction, VoiceCall]:
        async with self._store._tx() as conn:
            busy = (
                await conn.execute(
                    select(t.voice_calls.c.call_sid)
                    .where(t.voice_calls.c.agent_id == agent.user_id)
                    .where(t.voice_calls.c.stage.in_(LIVE_STAGES))
                    .limit(1)
                )
            ).first()
            if busy is not None:
                raise Conflict("you are on another call; end it before calling a customer")
            conversation_id = _new_id(
                await conn.execute(
                    insert(t.conversations).values(
                        customer_id=customer_id,
                        channel=Channel.VOICE.value,
                        thread_key=f"voice:{call_key}",
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
                        channel=Channel.VOICE.value,
                        queue=queue,
                        priority=0,
                        state=InteractionState.ASSIGNED.value,
                        agent_id=agent.user_id,
                        created_at=now,
                        queued_at=now,
                        assigned_at=now,
                        attributes={"address": hub_number, "direction": "outbound"},
                    )
                )
            )
            await conn.execute(
                insert(t.interaction_steps).values(
                    interaction_id=interaction_id,
                    step="outbound_call",
                    agent_id=agent.user_id,
                    at=now,
                )
            )
            await conn.execute(
                insert(t.messages).values(
                    conversation_id=conversation_id,
                    interaction_id=interaction_id,
                    direction=Direction.OUTBOUND.value,
                    author_kind=AuthorKind.AGENT.value,
                    author_id=agent.user_id,
                    author_name=agent.name,
                    body=f"Phone call to {customer_number} from {hub_number}",
                    created_at=now,
                )
            )
            await conn.execute(
                insert(t.voice_calls).values(
                    call_sid=call_key,
                    interaction_id=interaction_id,
                    hub_number=hub_number,
                    customer_number=customer_number,
                    stage="dialing",
                    agent_id=agent.user_id,
                    ring_started_at=now,
                    created_at=now,
                )
            )
            interaction = _interaction(await _interaction_row(conn, interaction_id))
            row = (
                await conn.execute(
                    select(t.voice_calls).where(t.voice_calls.c.call_sid == call_key)
                )
            ).one()
        return interaction, _call(row)
