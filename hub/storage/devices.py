"""Where each agent takes calls (the ``DeviceStore`` port): one row per agent who chose."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from hub.storage import tables as t
from hub.storage.sql import SqlStore


class SqlDeviceStore:
    def __init__(self, store: SqlStore) -> None:
        self._store = store

    async def agent_device(self, agent_id: int) -> str | None:
        async with self._store._tx() as conn:
            query = select(t.agent_devices.c.device).where(t.agent_devices.c.user_id == agent_id)
            return (await conn.execute(query)).scalar()

    async def set_agent_device(self, agent_id: int, device: str, *, now: datetime) -> None:
        values = {"device": device, "changed_at": now}
        where = t.agent_devices.c.user_id == agent_id
        async with self._store._tx() as conn:
            if (await conn.execute(update(t.agent_devices).where(where).values(**values))).rowcount:
                return
        try:
            async with self._store._tx() as conn:
                await conn.execute(t.agent_devices.insert().values(user_id=agent_id, **values))
        except IntegrityError:  # the same agent's other tab chose at the same moment
            async with self._store._tx() as conn:
                await conn.execute(update(t.agent_devices).where(where).values(**values))
