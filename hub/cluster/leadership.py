"""Who routes: this node runs the router while it holds the lease, and not a moment longer.

Every ``ttl_s / 3`` the node tries to take the free lease or renews its own. With a new
lease it first raises the database's epoch to the lease's token (``SqlFence``), then starts
the router with that token, so its claims are fenced. It stops routing at once when a
renewal is refused, when it cannot renew before its lease would run out (Redis unreachable),
or when the database refuses a claim as stale; another node then takes over within
``ttl_s`` and rebuilds from PostgreSQL.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Protocol

from hub.cluster.lease import RouterLease
from hub.cluster.tasks import cancel
from hub.storage.fence import SqlFence
from routing.runner import RouterRunner

log = logging.getLogger(__name__)


class Duty(Protocol):
    """Work only the router node does besides routing (e.g. reading the command stream)."""

    async def start_duty(self, token: int) -> None: ...
    async def stop_duty(self) -> None: ...


class Leadership:
    def __init__(
        self,
        *,
        lease: RouterLease,
        fence: SqlFence,
        router: RouterRunner,
        node_id: str,
        ttl_s: float,
        now: Callable[[], datetime],
        duties: Sequence[Duty] = (),
    ) -> None:
        self._lease = lease
        self._fence = fence
        self._router = router
        self._node_id = node_id
        self._ttl_s = ttl_s
        self._interval_s = ttl_s / 3
        self._now = now
        self._duties = list(duties)
        self._token: int | None = None
        self._valid_until = 0.0  # monotonic: the lease surely runs out after this
        self._fenced = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._starting: asyncio.Task[None] | None = None  # rebuilding while renewing
        router.on_fenced = self._fenced.set

    @property
    def token(self) -> int | None:
        """The fencing token while this node routes, else None."""
        return self._token

    def add_duty(self, duty: Duty) -> None:
        self._duties.append(duty)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="router-leadership")

    async def stop(self) -> None:
        """Stop routing and hand the lease back, so another node takes over at once."""
        task, self._task = self._task, None
        await cancel(task)
        await self._step_down("node stopping", release=True)

    async def _run(self) -> None:
        while True:
            await self.step()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._fenced.wait(), self._interval_s)

    async def step(self) -> None:
        """One round: take the free lease, or renew ours (or step down)."""
        if self._fenced.is_set():
            self._fenced.clear()
            await self._step_down("a newer router fenced this one off", release=True)
            return
        started = time.monotonic()
        try:
            if self._token is None:
                token = await asyncio.wait_for(self._lease.acquire(), self._interval_s)
                if token is not None:
                    self._valid_until = started + self._ttl_s
                    self._token = token
                    # The rebuild may take longer than the lease: keep renewing meanwhile.
                    self._starting = asyncio.create_task(self._take(token))
            elif await asyncio.wait_for(self._lease.renew(self._token), self._interval_s):
                self._valid_until = started + self._ttl_s
            else:
                await self._step_down("the lease was lost", release=False)
        except Exception as exc:
            log.warning("router lease: Redis unreachable (%s)", exc.__class__.__name__)
            # Stop before the lease can run out: from then on another node may route.
            if self._token is not None and time.monotonic() + self._interval_s >= (
                self._valid_until
            ):
                await self._step_down("the lease could not be renewed", release=False)

    async def ready(self) -> None:
        """Wait until the router start begun by the last ``step`` is over (tests)."""
        if self._starting is not None:
            await asyncio.shield(self._starting)

    async def _take(self, token: int) -> None:
        try:
            if not await self._fence.raise_epoch(token, node_id=self._node_id, now=self._now()):
                raise RuntimeError(f"a router with a token above {token} ran already")
            await self._router.start(fence=token)
            for duty in self._duties:
                await duty.start_duty(token)
        except Exception as exc:
            log.error("router not started with token %s: %s", token, exc)
            self._starting = None  # it is this task: not to be cancelled by the step-down
            await self._step_down("start failed", release=True)
            return
        log.info("this node (%s) routes now, token %s", self._node_id, token)

    async def _step_down(self, why: str, *, release: bool) -> None:
        token, self._token = self._token, None
        if token is None:
            return
        log.warning("this node (%s) stops routing: %s", self._node_id, why)
        starting, self._starting = self._starting, None
        await cancel(starting)
        await self._router.stop()
        for duty in self._duties:
            try:
                await duty.stop_duty()
            except Exception:
                log.exception("stopping a router duty failed")
        if release:
            with contextlib.suppress(Exception):
                await self._lease.release(token)
