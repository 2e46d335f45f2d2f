"""The Redis the cluster tests use: HUB_TEST_REDIS_URL (default 127.0.0.1:6379, database 13).

Unreachable: skipped locally, failed in CI (``tests.conftest.need``). Each test starts with
the hub's keys removed (only those: other users of the database are left alone).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any

from hub.app import redis_client
from hub.cluster import keys
from tests.conftest import need

REDIS_URL = os.environ.get("HUB_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")


async def clean_redis() -> AsyncIterator[Any]:
    """A client on the test database with every ``contact-hub:`` key deleted."""
    redis = redis_client(REDIS_URL)
    try:
        await redis.ping()
    except Exception as exc:
        await redis.aclose()
        need(False, f"Redis unreachable at {REDIS_URL}: {exc.__class__.__name__}")
    try:
        found = [key async for key in redis.scan_iter(match=keys.PREFIX + "*")]
        if found:
            await redis.delete(*found)
        yield redis
    finally:
        await redis.aclose()
