"""The hub's clock: wall time read once, then advanced by the monotonic clock.

Offers, wrap-ups, escalations, retries and sessions are timed against this clock, so a jump
of the machine's wall clock (a VM resumed, an administrator's ``date -s``, a bad NTP step)
neither expires every offer at once nor freezes them. Timestamps stay UTC and, on a machine
whose clock is right at start-up, true; after a wall-clock step they differ from it by the
step until the hub restarts, which ``drift_s`` reports.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta


def wall_now() -> datetime:
    return datetime.now(UTC)


class SteadyClock:
    def __init__(
        self,
        wall: Callable[[], datetime] = wall_now,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._wall = wall
        self._monotonic = monotonic
        self._anchor_wall = wall()
        self._anchor_mono = monotonic()

    def __call__(self) -> datetime:
        return self._anchor_wall + timedelta(seconds=self._monotonic() - self._anchor_mono)

    def drift_s(self) -> float:
        """How far the wall clock now is from this clock (positive: the wall is ahead)."""
        return (self._wall() - self()).total_seconds()
