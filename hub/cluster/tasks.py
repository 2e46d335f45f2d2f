"""Background tasks of the cluster's adapters."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

RECANCEL_S = 0.5


async def cancel(task: asyncio.Task[Any] | None) -> None:
    """Cancel a background task and wait until it has stopped (None: nothing to do).

    Cancelled again until it ends: a blocking Redis read can swallow one cancellation
    (redis-py turns it into a reconnect), and a node must still stop.
    """
    if task is None:
        return
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=RECANCEL_S)
    with contextlib.suppress(asyncio.CancelledError, Exception):
        task.result()
