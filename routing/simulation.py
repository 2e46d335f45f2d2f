"""A discrete-event simulation of one voice queue, driven through the real routing engine.

Theory of operation
-------------------
``simulate(scenario)`` builds an ``Engine`` with one queue ``"sim"`` (voice only, no wrap-up,
an offer timeout far beyond the run) and ``scenario.agents`` agents of voice capacity 1, then
plays calls into it on a virtual clock. Nothing is real but the engine: time is a float of
seconds since ``START_AT``, turned into a UTC ``now`` for every ``handle``.

- A heap holds the future: arrivals (Poisson, exponential gaps), hand-ups (exponential
  handling time, mean ``aht_s``) and, when ``patience_s`` is set, patience expiries
  (exponential, mean ``patience_s``). Before each of them the engine's own
  ``next_deadline()`` is honoured with a ``Tick`` if it comes first.
- Agents accept every offer at once: each ``OfferInteraction`` is answered with
  ``OfferAccepted`` at the same ``now``. A call is answered at its ``AssignInteraction``;
  its answer delay is that time minus its arrival. ``EndInteraction`` frees the agent.
  A patience expiry of a call still waiting becomes ``CustomerLeft`` (an abandon).
- Each call's handling time and patience are drawn when it arrives, in arrival order, from
  one ``random.Random``; so a seed fixes the offered work whatever the staffing, and two
  runs with the same seed and staffing are identical.
- The first ``warmup_calls`` arrivals (10 % by default) only fill the system; the rest are
  measured, each followed to its answer or abandon. Occupancy is busy agent-time over
  ``agents`` times the span from the first to the last measured arrival.
- Confidence intervals use batch means: the measured calls, in arrival order, are cut into
  ``BATCHES`` consecutive batches; the 95 % half-width is ``t(0.975, k-1) * s / sqrt(k)``
  over the ``k`` batch values. If the Erlang C figure lies outside it, the difference is
  more than sampling error (or the run is too short for its batches to be independent).

Service level is defined as Erlang C defines it: calls answered within ``sla_s`` over all
measured calls (abandoned ones count as missed). ASA is the mean delay of answered calls.
"""

from __future__ import annotations

import heapq
import math
import random
import statistics
from collections import deque
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from hub.model import Channel, Presence, Queue
from routing import erlang
from routing.commands import (
    AbandonInteraction,
    AssignInteraction,
    EndInteraction,
    OfferInteraction,
)
from routing.engine import Engine
from routing.events import (
    AgentClosed,
    AgentStateChanged,
    CustomerLeft,
    Event,
    InteractionQueued,
    OfferAccepted,
    Tick,
)

START_AT = datetime(2000, 1, 1, tzinfo=UTC)
QUEUE = "sim"
BATCHES = 20
OFFER_TIMEOUT_S = 1e9  # about 32 years: offers are accepted at once, so never reached
MAX_SPAN_S = 1e10  # expected simulated span; keeps every ``now`` well inside datetime's range

# Two-sided 95 % Student t quantiles, t(0.975, df), for df = 1 .. BATCHES - 1.
_T975 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093,
)  # fmt: skip

_ARRIVAL, _HANG_UP, _PATIENCE_OVER = 0, 1, 2


@dataclass(frozen=True, slots=True)
class Scenario:
    """One staffing and load to simulate; ``warmup_calls=None`` means 10 % of ``calls``."""

    agents: int
    arrival_rate_per_s: float
    aht_s: float
    sla_s: float
    calls: int
    seed: int
    warmup_calls: int | None = None
    patience_s: float | None = None

    def __post_init__(self) -> None:
        _require(self.agents >= 1, "agents", self.agents, "at least 1")
        _require(
            0 < self.arrival_rate_per_s < math.inf,
            "arrival_rate_per_s",
            self.arrival_rate_per_s,
            "a finite number above 0",
        )
        _require(0 < self.aht_s < math.inf, "aht_s", self.aht_s, "a finite number above 0")
        _require(0 <= self.sla_s < math.inf, "sla_s", self.sla_s, "a finite number, at least 0")
        if self.patience_s is not None:
            _require(
                0 < self.patience_s < math.inf,
                "patience_s",
                self.patience_s,
                "a finite number above 0",
            )
        if self.warmup_calls is not None:
            _require(self.warmup_calls >= 0, "warmup_calls", self.warmup_calls, "at least 0")
        if self.calls - self.warmup < 2 * BATCHES:
            raise ValueError(
                f"calls must exceed the {self.warmup} warm-up calls by at least "
                f"{2 * BATCHES}, two per confidence batch (got {self.calls})"
            )
        span_s = self.calls / self.arrival_rate_per_s
        if span_s > MAX_SPAN_S:
            raise ValueError(
                f"calls at this arrival_rate_per_s would take about {span_s:.3g} simulated "
                f"seconds; the limit is {MAX_SPAN_S:g}"
            )
        if self.patience_s is None and not self.traffic < self.agents:
            raise ValueError(
                f"unstable load: {self.traffic:g} Erlangs offered to {self.agents} agents; "
                f"without abandonment the queue grows without bound "
                f"(add agents, lower the load, or set patience_s)"
            )

    @property
    def warmup(self) -> int:
        """Calls discarded before measuring."""
        return self.calls // 10 if self.warmup_calls is None else self.warmup_calls

    @property
    def traffic(self) -> float:
        """Offered load in Erlangs."""
        return self.arrival_rate_per_s * self.aht_s


@dataclass(frozen=True, slots=True)
class Result:
    """What a run measured, after warm-up, beside what Erlang C predicts.

    ``*_ci95`` are 95 % confidence half-widths (batch means). The ``erlang_c_*`` figures
    are ``None`` when the load is at or above the number of agents (Erlang C has no steady
    state there); with ``patience_s`` set they still assume nobody abandons.
    """

    scenario: Scenario
    calls: int
    answered: int
    abandoned: int
    service_level: float
    service_level_ci95: float
    asa_s: float | None
    asa_ci95: float | None
    probability_of_wait: float
    probability_of_wait_ci95: float
    occupancy: float
    occupancy_ci95: float
    abandonment_rate: float
    measured_s: float
    erlang_c_service_level: float | None
    erlang_c_asa_s: float | None
    erlang_c_probability_of_wait: float | None
    erlang_c_occupancy: float | None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["traffic_erlangs"] = self.scenario.traffic
        data["warmup_calls"] = self.scenario.warmup
        return data


def simulate(scenario: Scenario, *, rng: random.Random | None = None) -> Result:
    """Run ``scenario`` through the routing engine; ``rng`` defaults to ``Random(seed)``."""
    # A seeded, reproducible stream is the point here; nothing is secret.
    run = _Run(scenario, rng if rng is not None else random.Random(scenario.seed))  # noqa: S311
    run.play()
    return run.result()


class _Run:
    """The mutable state of one simulation; lives only inside ``simulate``."""

    def __init__(self, scenario: Scenario, rng: random.Random) -> None:
        self.s = scenario
        self.rng = rng
        queue = Queue(
            QUEUE,
            frozenset({Channel.VOICE}),
            offer_timeout_s=OFFER_TIMEOUT_S,
            wrap_up_s=0.0,
        )
        self.engine = Engine({QUEUE: queue})
        self.t = 0.0
        self.heap: list[tuple[float, int, int, int]] = []
        self.seq = 0
        n = scenario.calls + 1  # interaction ids run 1 .. calls
        self.arrived_at = [0.0] * n
        self.handling_s = [0.0] * n
        self.delay_s: list[float | None] = [None] * n
        self.abandoned = [False] * n
        self.agent_of = [0] * n
        self.resolved = 0
        self.busy = 0
        self.busy_area = 0.0  # integral of busy agents over time since 0
        # busy_area and time at the first arrival of each batch, and at the last arrival
        self.marks: list[tuple[float, float]] = []
        self.first_of_batch = set(_batch_starts(scenario.calls, scenario.warmup))

    # ------------------------------------------------------------------ the loop
    def play(self) -> None:
        for agent_id in range(1, self.s.agents + 1):
            self.feed(AgentStateChanged(agent_id, Presence.AVAILABLE, {Channel.VOICE: 1}))
        self.push(self.rng.expovariate(self.s.arrival_rate_per_s), _ARRIVAL, 1)
        while self.resolved < self.s.calls:
            if not self.heap:
                raise RuntimeError("simulation stalled with calls unresolved")
            deadline = self.engine.next_deadline()
            if deadline is not None:
                deadline_t = (deadline - START_AT).total_seconds()
                if deadline_t <= self.heap[0][0]:
                    self.advance(max(self.t, deadline_t))
                    self.feed(Tick(), now=max(deadline, self.now()))
                    continue
            t, _, kind, iid = heapq.heappop(self.heap)
            self.advance(t)
            if kind == _ARRIVAL:
                self.arrive(iid)
            elif kind == _HANG_UP:
                self.feed(AgentClosed(iid, self.agent_of[iid]))
            elif self.delay_s[iid] is None and not self.abandoned[iid]:
                self.feed(CustomerLeft(iid))

    def arrive(self, iid: int) -> None:
        s = self.s
        self.arrived_at[iid] = self.t
        self.handling_s[iid] = self.rng.expovariate(1.0 / s.aht_s)
        if s.patience_s is not None:
            self.push(self.t + self.rng.expovariate(1.0 / s.patience_s), _PATIENCE_OVER, iid)
        if iid in self.first_of_batch:
            self.marks.append((self.t, self.busy_area))
        if iid < s.calls:
            self.push(self.t + self.rng.expovariate(s.arrival_rate_per_s), _ARRIVAL, iid + 1)
        else:
            self.marks.append((self.t, self.busy_area))
        self.feed(InteractionQueued(iid, QUEUE, Channel.VOICE, 0, self.now()))

    def feed(self, event: Event, now: datetime | None = None) -> None:
        """Hand one event to the engine and act on its commands, agents accepting at once."""
        at = self.now() if now is None else now
        pending = deque([event])
        while pending:
            for command in self.engine.handle(pending.popleft(), at):
                if isinstance(command, OfferInteraction):
                    pending.append(OfferAccepted(command.interaction_id, command.agent_id))
                elif isinstance(command, AssignInteraction):
                    self.answered(command.interaction_id, command.agent_id)
                elif isinstance(command, EndInteraction):
                    self.busy -= 1
                elif isinstance(command, AbandonInteraction):
                    self.abandoned[command.interaction_id] = True
                    self.resolved += 1

    def answered(self, iid: int, agent_id: int) -> None:
        self.delay_s[iid] = self.t - self.arrived_at[iid]
        self.agent_of[iid] = agent_id
        self.busy += 1
        self.resolved += 1
        self.push(self.t + self.handling_s[iid], _HANG_UP, iid)

    def advance(self, t: float) -> None:
        self.busy_area += self.busy * (t - self.t)
        self.t = t

    def now(self) -> datetime:
        return START_AT + timedelta(seconds=self.t)

    def push(self, t: float, kind: int, iid: int) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (t, self.seq, kind, iid))

    # ------------------------------------------------------------------ measuring
    def result(self) -> Result:
        s = self.s
        starts = _batch_starts(s.calls, s.warmup)
        bounds = [*starts, s.calls + 1]
        measured = range(s.warmup + 1, s.calls + 1)
        delays = [d for i in measured if (d := self.delay_s[i]) is not None]
        within = sum(1 for d in delays if d <= s.sla_s)
        waited = sum(1 for d in delays if d > 0) + sum(self.abandoned[i] for i in measured)

        sl_batches, pw_batches, asa_batches, occ_batches = [], [], [], []
        for b in range(len(starts)):
            ids = range(bounds[b], bounds[b + 1])
            got = [d for i in ids if (d := self.delay_s[i]) is not None]
            sl_batches.append(sum(1 for d in got if d <= s.sla_s) / len(ids))
            pw_batches.append((len(ids) - sum(1 for d in got if d == 0)) / len(ids))
            if got:
                asa_batches.append(sum(got) / len(got))
            (t0, area0), (t1, area1) = self.marks[b], self.marks[b + 1]
            occ_batches.append((area1 - area0) / (s.agents * (t1 - t0)))

        (t_first, area_first), (t_last, area_last) = self.marks[0], self.marks[-1]
        calls = len(measured)
        abandoned = calls - len(delays)
        stable = s.traffic < s.agents
        return Result(
            scenario=s,
            calls=calls,
            answered=len(delays),
            abandoned=abandoned,
            service_level=within / calls,
            service_level_ci95=_half_width(sl_batches),
            asa_s=sum(delays) / len(delays) if delays else None,
            asa_ci95=_half_width(asa_batches) if len(asa_batches) >= 2 else None,
            probability_of_wait=waited / calls,
            probability_of_wait_ci95=_half_width(pw_batches),
            occupancy=(area_last - area_first) / (s.agents * (t_last - t_first)),
            occupancy_ci95=_half_width(occ_batches),
            abandonment_rate=abandoned / calls,
            measured_s=t_last - t_first,
            erlang_c_service_level=(
                erlang.service_level(s.agents, s.arrival_rate_per_s, s.aht_s, s.sla_s)
                if stable
                else None
            ),
            erlang_c_asa_s=(
                erlang.asa_s(s.agents, s.arrival_rate_per_s, s.aht_s) if stable else None
            ),
            erlang_c_probability_of_wait=(
                erlang.probability_of_wait(s.agents, s.traffic) if stable else None
            ),
            erlang_c_occupancy=(
                erlang.occupancy(s.agents, s.arrival_rate_per_s, s.aht_s) if stable else None
            ),
        )


def _batch_starts(calls: int, warmup: int) -> list[int]:
    """The first interaction id of each batch of measured calls (ids warmup+1 .. calls)."""
    size, extra = divmod(calls - warmup, BATCHES)
    starts, i = [], warmup + 1
    for b in range(BATCHES):
        starts.append(i)
        i += size + (1 if b < extra else 0)
    return starts


def _half_width(values: list[float]) -> float:
    """95 % confidence half-width of the mean of (roughly independent) batch values."""
    k = len(values)
    return _T975[k - 2] * statistics.stdev(values) / math.sqrt(k)


def _require(ok: bool, name: str, value: float, limit: str) -> None:
    if not ok or math.isnan(value):
        raise ValueError(f"{name} must be {limit} (got {value!r})")
