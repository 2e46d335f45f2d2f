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
from sqlalchemy.engine import make_url

from hub.storage.sql import make_engine
from tests.conftest import need

PG_URL = os.environ.get(
    "HUB_TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)


@contextlib.asynccontextmanager
async def postgres_database() -> AsyncIterator[str]:
    """The URL of a new, empty database; dropped (connections and all) on the way out."""
    admin_url = make_url(PG_URL)
    admin = make_engine(admin_url.render_as_string(hide_password=False))
    name = f"hub_test_{secrets.token_hex(6)}"
    try:
        async with admin.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # connection refused, authentication, driver missing
        await admin.dispose()
        need(False, f"PostgreSQL unreachable at {admin_url.host}:{admin_url.port}: {exc}")
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()
