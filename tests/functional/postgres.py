"""Fresh PostgreSQL databases for tests, on the server named by HUB_TEST_DATABASE_URL.

Default: postgres on 127.0.0.1:5432. Each database is dropped afterwards. Unreachable:
skipped locally, failed in CI (``tests.conftest.need``).
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import AsyncIterator

from sqlalchemy import text
from sqlalchemy.engine import URL, make_url

from hub.storage.sql import make_engine
from tests.conftest import need

PG_URL = os.environ.get(
    "HUB_TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)


async def _admin(statement: str) -> None:
    """Run one statement on the server's maintenance database, outside a transaction."""
    admin = make_engine(make_url(PG_URL).render_as_string(hide_password=False))
    try:
        async with admin.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(statement))
    finally:
        await admin.dispose()


async def create_database() -> str:
    """A new, empty database's URL; skips (or fails in CI) when the server is unreachable."""
    admin_url: URL = make_url(PG_URL)
    name = f"hub_test_{secrets.token_hex(6)}"
    try:
        await _admin(f'CREATE DATABASE "{name}"')
    except Exception as exc:  # connection refused, authentication, driver missing
        need(False, f"PostgreSQL unreachable at {admin_url.host}:{admin_url.port}: {exc}")
    return admin_url.set(database=name).render_as_string(hide_password=False)


async def drop_database(url: str) -> None:
    """Drop a database made by ``create_database``, closing any connection still open."""
    await _admin(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


@contextlib.asynccontextmanager
async def postgres_database() -> AsyncIterator[str]:
    """The URL of a new, empty database; dropped (connections and all) on the way out."""
    url = await create_database()
    try:
        yield url
    finally:
        await drop_database(url)
