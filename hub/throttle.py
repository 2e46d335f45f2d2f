"""Failed-attempt throttling with temporary lockout, and rate limits (pure; time is a
monotonic float in).

Theory of operation
-------------------
Each key (an account, an address) keeps the times of its recent failures. A key with
``limit`` failures inside ``window_s`` is locked until ``lockout_s`` after the last of them;
attempts while locked are refused without being checked (so a locked account cannot be
probed) and do not extend the lock. A success clears the key. Time is monotonic, so a
wall-clock jump neither lifts nor extends a lock. At most ``max_keys`` keys are kept (the
stalest go first), so a flood of addresses cannot grow memory without bound.

A rate limit is a token bucket per key (a web-chat visitor, an address): a burst at once,
then a steady rate. A refused event takes no token, so a sender that keeps flooding is
refused until it slows down, and one that stops is served again as soon as a token is back.
"""

from __future__ import annotations

from collections import OrderedDict, deque


class FailureThrottle:
    def __init__(
        self, *, limit: int, window_s: float, lockout_s: float, max_keys: int = 100_000
    ) -> None:
        if limit < 1 or window_s <= 0 or lockout_s < 0 or max_keys < 1:
            raise ValueError("limit >= 1, window_s > 0, lockout_s >= 0, max_keys >= 1")
        self._limit = limit
        self._window_s = window_s
        self._lockout_s = lockout_s
        self._max_keys = max_keys
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def locked_for(self, key: str, now: float) -> float:
        """Seconds until ``key`` may try again (0.0 when it may now)."""
        times = self._failures.get(key)
        if times is None or len(times) < self._limit:
            return 0.0
        last = times[-1]
        if last - times[-self._limit] > self._window_s:  # not that many close together
            return 0.0
        return max(0.0, last + self._lockout_s - now)

    def failed(self, key: str, now: float) -> None:
        times = self._failures.pop(key, None) or deque(maxlen=self._limit)
        while times and now - times[0] > self._window_s:
            times.popleft()
        times.append(now)
        self._failures[key] = times  # most recently failed last
        while len(self._failures) > self._max_keys:
            self._failures.popitem(last=False)

    def succeeded(self, key: str) -> None:
        self._failures.pop(key, None)


class RateLimit:
    """A token bucket per key: ``burst`` events at once, then ``per_s`` a second (pure; time is
    a monotonic float in). ``wait_s`` takes a token and answers 0.0, or answers how long until
    one is free and takes nothing, so a refused event costs the sender nothing but time. At
    most ``max_keys`` keys are kept (the stalest go first: a full bucket is the default)."""

    def __init__(self, *, per_s: float, burst: int, max_keys: int = 100_000) -> None:
        if per_s <= 0 or burst < 1 or max_keys < 1:
            raise ValueError("per_s > 0, burst >= 1, max_keys >= 1")
        self._per_s = per_s
        self._burst = burst
        self._max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # tokens, at

    def wait_s(self, key: str, now: float) -> float:
        tokens, at = self._buckets.pop(key, (float(self._burst), now))
        tokens = min(float(self._burst), tokens + (now - at) * self._per_s)
        wait = 0.0
        if tokens >= 1:
            tokens -= 1
        else:
            wait = (1 - tokens) / self._per_s
        self._buckets[key] = (tokens, now)  # most recently seen last
        while len(self._buckets) > self._max_keys:
            self._buckets.popitem(last=False)
        return wait


def per_minute(count: int) -> RateLimit:
    """``count`` at once, then ``count`` a minute (a per-address limit)."""
    return RateLimit(per_s=count / 60, burst=count)
