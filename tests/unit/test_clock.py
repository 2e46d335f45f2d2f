"""The hub's clock follows elapsed time, not the wall clock's jumps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hub.clock import SteadyClock

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def test_steady_clock_starts_at_the_wall_and_ignores_its_jumps() -> None:
    wall, mono = [T0], [100.0]
    clock = SteadyClock(lambda: wall[0], lambda: mono[0])
    assert clock() == T0
    mono[0] += 5
    wall[0] = T0 + timedelta(hours=3)  # someone set the date forward
    assert clock() == T0 + timedelta(seconds=5)
    assert clock.drift_s() == 3 * 3600 - 5
    wall[0] = T0 - timedelta(days=1)  # ... and back
    mono[0] += 1
    assert clock() == T0 + timedelta(seconds=6)
    assert clock().tzinfo is UTC
