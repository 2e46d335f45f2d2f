"""Integrations' API keys (the ``ApiKeyStore`` port) on the same database as ``SqlStore``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from hub.ports import ApiKey
from hub.storage import tables as t
from hub.storage.sql import SqlStore, _new_id


def _key(row: Any) -> ApiKey:
    return ApiKey(
        key_id=row.key_id,
        name=row.name,
        prefix=row.prefix,
        scopes=frozenset(row.scopes or ()),
        created_at=row.created_at,
        created_by=row.created_by,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
    )


class SqlApiKeyStore:
    def __init__(self, store: SqlStore) -> None:
        self._store = store

    async def add_api_key(
        self,
        *,
        name: str,
        prefix: str,
        key_hash: str,
        scopes: frozenset[str],
        created_by: str,
        now: datetime,
    ) -> ApiKey:
        async with self._store._tx() as conn:
            result = await conn.execute(
                t.api_keys.insert().values(
                    name=name,
                    prefix=prefix,
                    key_hash=key_hash,
                    scopes=sorted(scopes),
                    created_at=now,
                    created_by=created_by,
                )
            )
            key_id = _new_id(result)
        return ApiKey(key_id, name, prefix, scopes, now, created_by)

    async def api_keys(self) -> list[ApiKey]:
        async with self._store._tx() as conn:
            rows = await conn.execute(select(t.api_keys).order_by(t.api_keys.c.key_id))
            return [_key(r) for r in rows]

    async def api_key_by_hash(self, key_hash: str) -> ApiKey | None:
        async with self._store._tx() as conn:
            query = select(t.api_keys).where(t.api_keys.c.key_hash == key_hash)
            row = (await conn.execute(query)).first()
            return _key(row) if row is not None else None

    async def revoke_api_key(self, key_id: int, now: datetime) -> None:
        async with self._store._tx() as conn:
            await conn.execute(
                update(t.api_keys)
                .where(t.api_keys.c.key_id == key_id, t.api_keys.c.revoked_at.is_(None))
                .values(revoked_at=now)
            )

    async def touch_api_key(self, key_id: int, now: datetime) -> None:
        async with self._store._tx() as conn:
            await conn.execute(
                update(t.api_keys).where(t.api_keys.c.key_id == key_id).values(last_used_at=now)
            )
