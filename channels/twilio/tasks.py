"""REST calls to Twilio that run after a webhook or an event has been answered: kept so that
shutdown can let them finish (briefly) and tests can wait for them."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any

STOP_TIMEOUT_S = 3.0


class BackgroundTasks:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def idle(self) -> None:
        """Wait until none is in flight."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    async def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> None:
        """Let the running ones finish within ``timeout_s``, then cancel the rest."""
        if not self._tasks:
            return
        _, late = await asyncio.wait(set(self._tasks), timeout=timeout_s)
        for task in late:
            task.cancel()
        for task in late:
            with contextlib.suppress(asyncio.CancelledError):
                await task
