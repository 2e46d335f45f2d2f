"""The audit hook: ``Audit.record(actor, action, target=..., details=...)`` from anywhere.

``record`` stamps the entry with the hub's clock, redacts it (``hub.audit``) and queues it; it
never waits for the database, so an agent's action is not slowed by its audit entry. One
background writer appends whatever has queued, in order, a batch per transaction. If the
database refuses, the batch stays queued and is retried with backoff, so an outage delays
entries but does not lose them. ``flush()`` waits until everything recorded so far is stored
(the audit routes call it, so a reader sees their own actions); ``stop()`` flushes, and logs
at ERROR, in full, any entry it still cannot store, so none vanishes silently.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from collections.abc import Mapping
from typing import Any

from hub.audit import Actor, AuditEntry, entry_json
from hub.ports import AuditStore, Clock

log = logging.getLogger(__name__)

MAX_BATCH = 500
STOP_ATTEMPTS = 3


class Audit:
    def __init__(
        self,
        store: AuditStore,
        clock: Clock,
        *,
        retry_initial_s: float = 0.2,
        retry_max_s: float = 30.0,
    ) -> None:
        self._store = store
        self._clock = clock
        self._retry_initial_s = retry_initial_s
        self._retry_max_s = retry_max_s
        self._pending: deque[AuditEntry] = deque()
        self._recorded = 0  # entries ever queued
        self._stored = 0  # entries ever stored (always a prefix of the recorded ones)
        self._changed = asyncio.Condition()
        self._wake = asyncio.Event()
        self._writing = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._stopped = False

    def record(
        self,
        actor: Actor,
        action: str,
        *,
        target: tuple[str, object] | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> AuditEntry:
        """Queue an entry for ``action`` by ``actor`` now; returns it (redacted)."""
        entry = AuditEntry.of(self._clock(), actor, action, target=target, details=details)
        if self._stopped:
            log.error("audit entry after shutdown, not stored: %s", json.dumps(entry_json(entry)))
            return entry
        self._pending.append(entry)
        self._recorded += 1
        self._wake.set()
        return entry

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="audit-writer")

    async def stop(self) -> None:
        """Stop the writer and store what is queued; what cannot be stored is logged."""
        self._stopped = True
        if self._task is not None:
            # Never cancel the writer inside a transaction (its batch could be stored twice).
            async with self._writing:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
            self._task = None
        for attempt in range(STOP_ATTEMPTS):
            try:
                await self._write_pending()
                return
            except Exception as exc:
                log.error(
                    "audit entries not stored (attempt %d): %s", attempt + 1, exc.__class__.__name__
                )
                await asyncio.sleep(self._retry_initial_s * 2**attempt)
        for entry in self._pending:
            log.error("audit entry lost at shutdown: %s", json.dumps(entry_json(entry)))
        self._pending.clear()

    async def flush(self, timeout_s: float | None = None) -> bool:
        """Wait until every entry recorded before this call is stored (False if that took
        longer than ``timeout_s``: the database is refusing; the entries stay queued)."""
        target = self._recorded
        if self._task is None:
            await self._write_pending()
            return True
        try:
            async with asyncio.timeout(timeout_s), self._changed:
                await self._changed.wait_for(lambda: self._stored >= target)
        except TimeoutError:
            log.warning("audit entries still queued after %.1fs", timeout_s)
            return False
        return True

    async def _run(self) -> None:
        delay = self._retry_initial_s
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self._write_pending()
                delay = self._retry_initial_s
            except Exception as exc:  # the database refused, or worse: keep them, try again
                log.error(
                    "audit entries not stored yet, retrying in %.1fs: %s",
                    delay,
                    exc.__class__.__name__,
                )
                self._wake.set()
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._retry_max_s)

    async def _write_pending(self) -> None:
        async with self._writing:
            while self._pending:
                batch = [self._pending[i] for i in range(min(MAX_BATCH, len(self._pending)))]
                await self._store.append_audit(batch)  # raises: the batch stays queued
                for _ in batch:
                    self._pending.popleft()
                async with self._changed:
                    self._stored += len(batch)
                    self._changed.notify_all()
