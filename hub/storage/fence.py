"""The routing fence in the database: which fencing token may write claims.

A node that wins the router lease (``hub.cluster.lease``) raises the epoch to its new token
before it routes anything; the epoch only ever goes up, so an old router's token can never
become current again. Claims check it in their own transaction (``sql.check_fence``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update

from hub.storage import tables as t
from hub.storage.sql import ROUTER_FENCE, SqlStore


class SqlFence:
    def __init__(self, store: SqlStore) -> None:
        self._store = store

    async def raise_epoch(self, token: int, *, node_id: str, now: datetime) -> bool:
        """Make ``token`` the current router's; False when a higher one is current already
        (this node's lease is then older than another's and it must not route)."""
        e = t.router_epoch
        async with self._store._tx() as conn:
            result = await conn.execute(
                update(e)
                .where(e.c.name == ROUTER_FENCE)
                .where(e.c.epoch < token)
                .values(epoch=token, node_id=node_id, changed_at=now)
            )
            return result.rowcount == 1

    async def current(self) -> int:
        """The current router's token (0 before any cluster router ran)."""
        e = t.router_epoch
        async with self._store._tx() as conn:
            found = (await conn.execute(select(e.c.epoch).where(e.c.name == ROUTER_FENCE))).scalar()
        return int(found or 0)
