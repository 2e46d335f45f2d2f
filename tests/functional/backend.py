"""The database every test hub runs on, chosen for the whole run by ``HUB_TEST_BACKEND``.

``sqlite`` (the default): a file in the test's ``tmp_path``. ``postgresql``: a fresh database
on the server named by ``HUB_TEST_DATABASE_URL`` (tests.functional.postgres), made the first
time a test asks for a name and dropped when the test ends (``drop_created``, run by an
autouse fixture). Asking twice for the same name within a test gives the same database, so a
test can stop a hub and start another on the same records.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from tests.functional.postgres import create_database, drop_database

T = TypeVar("T")

BACKEND = os.environ.get("HUB_TEST_BACKEND", "sqlite").strip().lower()
if BACKEND not in ("sqlite", "postgresql"):
    raise RuntimeError(f"HUB_TEST_BACKEND={BACKEND!r}: use sqlite or postgresql")

# For the tests that name their databases themselves: both on the default run, and only
# PostgreSQL on the PostgreSQL run (the default run has already covered SQLite).
BACKENDS = ["sqlite", "postgresql"] if BACKEND == "sqlite" else ["postgresql"]

_created: dict[str, str] = {}  # "<tmp_path>/<name>" -> PostgreSQL URL, for the current test


def _run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from synchronous code, even inside a running loop (the
    settings helpers are synchronous and called from async tests)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def hub_database_url(tmp_path: Path, name: str = "hub.db") -> str:
    """The URL a test hub should use for its database ``name``, on the run's backend."""
    if BACKEND == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / name}"
    key = str(tmp_path / name)
    if key not in _created:
        _created[key] = _run(create_database())
    return _created[key]


def drop_created() -> None:
    """Drop every PostgreSQL database the current test made (none on SQLite)."""
    urls = list(_created.values())
    _created.clear()
    for url in urls:
        _run(drop_database(url))
