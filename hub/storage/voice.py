"""The voice channel's storage: the ``VoiceStore`` port on the same database as ``SqlStore``.

Every public method is one transaction. A call row is created once per CallSid (a retried
webhook finds it); every later change is a conditional update on the call's stage, so two
deliveries of the same callback change it once.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from hub.errors import InvalidInput
from hub.ports import VoiceCall
from hub.storage import tables as t
from hub.storage.sql import SqlStore

_FIELDS = frozenset(c.name for c in t.voice_calls.columns) - {"call_sid", "created_at"}


def _call(row: Any) -> VoiceCall:
    values = dict(row._mapping)
    values["muted"] = bool(values["muted"])
    values["hold_s"] = float(values["hold_s"] or 0.0)
    return VoiceCall(**values)


class SqlVoiceStore:
    def __init__(self, store: SqlStore) -> None:
        self._store = store

    async def _one(self, column: Any, value: Any) -> VoiceCall | None:
        async with self._store._tx() as conn:
            row = (await conn.execute(select(t.voice_calls).where(column == value))).first()
            return None if row is None else _call(row)

    async def start_call(
        self, call_sid: str, *, hub_number: str, customer_number: str, stage: str, now: datetime
    ) -> tuple[VoiceCall, bool]:
        try:
            async with self._store._tx() as conn:
                await conn.execute(
                    insert(t.voice_calls).values(
                        call_sid=call_sid,
                        hub_number=hub_number,
                        customer_number=customer_number,
                        stage=stage,
                        created_at=now,
                    )
                )
            created = True
        except IntegrityError:  # a concurrent delivery of the same webhook stored it
            created = False
        found = await self.voice_call(call_sid)
        assert found is not None
        return found, created

    async def voice_call(self, call_sid: str) -> VoiceCall | None:
        return await self._one(t.voice_calls.c.call_sid, call_sid)

    async def call_of_agent_leg(self, agent_call_sid: str) -> VoiceCall | None:
        return await self._one(t.voice_calls.c.agent_call_sid, agent_call_sid)

    async def call_of_interaction(self, interaction_id: int) -> VoiceCall | None:
        return await self._one(t.voice_calls.c.interaction_id, interaction_id)

    async def live_calls(self) -> list[VoiceCall]:
        """Calls with a customer and an agent talking now (for supervisors), oldest first."""
        async with self._store._tx() as conn:
            rows = await conn.execute(
                select(t.voice_calls)
                .where(t.voice_calls.c.stage == "connected")
                .order_by(t.voice_calls.c.answered_at, t.voice_calls.c.call_sid)
            )
            return [_call(row) for row in rows]

    async def update_call(
        self,
        call_sid: str,
        *,
        stages: Collection[str] | None = None,
        match: Mapping[str, Any] | None = None,
        **values: Any,
    ) -> VoiceCall | None:
        unknown = (set(values) | set(match or {})) - _FIELDS
        if unknown:
            raise InvalidInput(f"not a call field: {', '.join(sorted(unknown))}")
        where = [t.voice_calls.c.call_sid == call_sid]
        if stages is not None:
            where.append(t.voice_calls.c.stage.in_(list(stages)))
        for name, value in (match or {}).items():
            column = t.voice_calls.c[name]
            where.append(column.is_(None) if value is None else column == value)
        async with self._store._tx() as conn:
            result = await conn.execute(update(t.voice_calls).where(*where).values(**values))
            if result.rowcount != 1:
                return None
            query = select(t.voice_calls).where(t.voice_calls.c.call_sid == call_sid)
            row = (await conn.execute(query)).first()
            return None if row is None else _call(row)
