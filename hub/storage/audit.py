"""The audit trail's storage: the ``AuditStore`` port on the same database as ``SqlStore``.

Only INSERT and SELECT live here. The table's triggers (migration 0007) refuse any UPDATE or
DELETE, so even a bug elsewhere cannot rewrite history.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import func, insert, or_, select

from hub.audit import Actor, ActorKind, AuditEntry, AuditQuery
from hub.storage import tables as t
from hub.storage.sql import LIKE_ESCAPE, SqlStore, like_pattern


def _entry(row: Any) -> AuditEntry:
    return AuditEntry(
        at=row.at,
        actor=Actor(ActorKind(row.actor_kind), row.actor_name, row.actor_id, row.address),
        action=row.action,
        target_kind=row.target_kind,
        target_id=row.target_id,
        details=row.details or {},
        entry_id=row.entry_id,
    )


class SqlAuditStore:
    def __init__(self, store: SqlStore) -> None:
        self._store = store

    async def append_audit(self, entries: Collection[AuditEntry]) -> None:
        """All of ``entries`` in one transaction, in order (their ids follow that order)."""
        if not entries:
            return
        async with self._store._tx() as conn:
            for e in entries:
                await conn.execute(
                    insert(t.audit_log).values(
                        at=e.at,
                        actor_kind=e.actor.kind.value,
                        actor_id=e.actor.actor_id,
                        actor_name=e.actor.name,
                        address=e.actor.address,
                        action=e.action,
                        target_kind=e.target_kind,
                        target_id=e.target_id,
                        details=dict(e.details),
                    )
                )

    async def audit_entries(self, query: AuditQuery) -> list[AuditEntry]:
        """Newest first: at most ``query.limit`` entries older than ``query.before_id``."""
        a = t.audit_log.c
        stmt = select(t.audit_log).order_by(a.entry_id.desc()).limit(query.limit)
        if query.before_id is not None:
            stmt = stmt.where(a.entry_id < query.before_id)
        if query.since is not None:
            stmt = stmt.where(a.at >= query.since)
        if query.until is not None:
            stmt = stmt.where(a.at <= query.until)
        if query.action is not None:
            stmt = stmt.where(
                or_(
                    a.action == query.action,
                    a.action.startswith(query.action + ".", autoescape=True),
                )
            )
        if query.actor is not None:
            named = func.lower(a.actor_name).like(like_pattern(query.actor), escape=LIKE_ESCAPE)
            if query.actor.isdigit() and len(query.actor) < 10:
                stmt = stmt.where(or_(a.actor_id == int(query.actor), named))
            else:
                stmt = stmt.where(named)
        async with self._store._tx() as conn:
            return [_entry(row) for row in (await conn.execute(stmt)).all()]
