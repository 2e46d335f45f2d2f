"""Failed-attempt throttling: when a key locks, for how long, and what frees it; and the
rate limit a flooding web-chat visitor meets."""

from __future__ import annotations

import pytest

from hub.throttle import FailureThrottle, RateLimit


def throttle(**kw: float) -> FailureThrottle:
    return FailureThrottle(
        limit=int(kw.get("limit", 3)),
        window_s=kw.get("window_s", 60),
        lockout_s=kw.get("lockout_s", 300),
        max_keys=int(kw.get("max_keys", 100)),
    )


def test_the_limit_th_failure_in_the_window_locks_until_lockout_after_it() -> None:
    t = throttle()
    for now in (0, 10, 20):
        assert t.locked_for("a", now) == 0
        t.failed("a", now)
    assert t.locked_for("a", 20) == 300
    assert t.locked_for("a", 319) == 1
    assert t.locked_for("a", 320) == 0
    assert t.locked_for("b", 20) == 0  # keys are separate


def test_failures_spread_wider_than_the_window_never_lock() -> None:
    t = throttle()
    for now in (0, 40, 80, 120, 160):
        t.failed("a", now)
        assert t.locked_for("a", now) == 0


def test_a_success_clears_the_key() -> None:
    t = throttle()
    t.failed("a", 0)
    t.failed("a", 1)
    t.succeeded("a")
    t.failed("a", 2)
    assert t.locked_for("a", 2) == 0


def test_only_the_stalest_keys_are_forgotten_beyond_max_keys() -> None:
    t = throttle(limit=1, max_keys=2)
    t.failed("a", 0)
    t.failed("b", 1)
    t.failed("c", 2)
    assert (t.locked_for("a", 3), t.locked_for("b", 3) > 0, t.locked_for("c", 3) > 0) == (
        0,
        True,
        True,
    )


@pytest.mark.parametrize("kw", [{"limit": 0}, {"window_s": 0}, {"lockout_s": -1}, {"max_keys": 0}])
def test_nonsense_settings_are_refused(kw: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        throttle(**kw)


@pytest.mark.parametrize(
    ("sent_at", "waits"),
    [
        ([0, 0, 0, 0], [0, 0, 0, 0.5]),  # a burst of 3, then one every 0.5 s
        ([0, 0, 0, 0.5], [0, 0, 0, 0]),  # the refill came in time
        ([0, 0, 0, 0.1, 0.2], [0, 0, 0, 0.4, 0.3]),  # refused ones take no token
        ([0, 0, 0, 100, 100, 100, 100], [0, 0, 0, 0, 0, 0, 0.5]),  # refills only to the burst
    ],
)
def test_rate_limit_allows_a_burst_then_the_rate(sent_at: list[float], waits: list[float]) -> None:
    pace = RateLimit(per_s=2, burst=3)
    assert [pytest.approx(pace.wait_s("v", t)) for t in sent_at] == waits


def test_rate_limit_keys_are_separate_and_bounded() -> None:
    pace = RateLimit(per_s=1, burst=1, max_keys=2)
    assert pace.wait_s("a", 0) == 0
    assert pace.wait_s("a", 0) == 1  # a is out
    assert pace.wait_s("b", 0) == 0  # b is not
    assert pace.wait_s("c", 0) == 0  # a, the stalest, is forgotten: a full bucket again
    assert pace.wait_s("a", 0) == 0


@pytest.mark.parametrize("bad", [{"per_s": 0, "burst": 1}, {"per_s": 1, "burst": 0}])
def test_rate_limit_refuses_a_limit_that_would_refuse_everything(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        RateLimit(per_s=bad["per_s"], burst=int(bad["burst"]))
