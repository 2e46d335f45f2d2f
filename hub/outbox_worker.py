"""The background loop that drains a durable outbox (outbound email, webhook deliveries).

It claims due rows through the store (which leases them, so no two hubs take one), hands each
to the caller's ``handle``, and sleeps until the next row falls due, at most ``idle_wait_s``,
or until ``wake()`` says something was queued. A database outage is logged and retried
shortly; it never ends the loop. ``handle`` is expected to record its own outcome.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Generic, TypeVar

from hub.errors import HubError
from hub.ports import Clock

log = logging.getLogger(__name__)

T = TypeVar("T")
IDLE_WAIT_S = 30.0
ERROR_WAIT_S = 1.0
MIN_WAIT_S = 0.05


class OutboxWorker(Generic[T]):
    def __init__(
        self,
        *,
        name: str,
        claim: Callable[[], Awaitable[Sequence[T]]],
        handle: Callable[[T], Awaitable[None]],
        next_due: Callable[[], Awaitable[datetime | None]],
        clock: Clock,
        parallel: bool = False,
        idle_wait_s: float = IDLE_WAIT_S,
    ) -> None:
        """``parallel``: handle a claimed batch at once (one slow receiver does not hold the
        others up) rather than one row after another."""
        self._name = name
        self._claim = claim
        self._handle = handle
        self._next_due = next_due
        self._clock = clock
        self._parallel = parallel
        self._idle_wait_s = idle_wait_s
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def wake(self) -> None:
        """Something was queued: look at the outbox now."""
        self._wake.set()

    async def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name=self._name)

    async def stop(self, grace_s: float = 2.0) -> None:
        """Stop; work in flight gets ``grace_s`` to finish so its outcome is recorded (an
        unfinished row's lease runs out and it is taken again after a restart)."""
        self._stopping = True
        self._wake.set()
        if self._task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(self._task), grace_s)
        except TimeoutError:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._task = None

    async def _run(self) -> None:
        while not self._stopping:
            try:
                items = await self._claim()
                if self._parallel:
                    outcomes = await asyncio.gather(
                        *(self._handle(item) for item in items), return_exceptions=True
                    )
                    for outcome in outcomes:
                        if isinstance(outcome, Exception):
                            log.error("%s: %r", self._name, outcome)
                else:
                    for item in items:
                        if self._stopping:
                            break
                        await self._handle(item)
                if items:
                    continue
                wait_s = self._idle_wait_s
                due = await self._next_due()
                if due is not None:
                    until_due = (due - self._clock()).total_seconds()
                    wait_s = min(self._idle_wait_s, max(MIN_WAIT_S, until_due))
            except HubError as exc:
                log.warning("%s: %s; trying again shortly", self._name, exc.message)
                wait_s = ERROR_WAIT_S
            except Exception:
                log.exception("%s worker error", self._name)
                wait_s = ERROR_WAIT_S
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait_s)
