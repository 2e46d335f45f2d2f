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

``simulate_multiskill(scenario, routing)`` and ``compare_routings(scenario)`` run the same loop
on a team with skill proficiencies and several call types, where handling time depends on the
answering agent's proficiency, to compare FIFO, ``most_skilled`` and escalation rules on the
same calls; their model is in ``simulate_multiskill``'s docstring.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import math
import random
import statistics
from collections import deque
from collections.abc import Iterable
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
from routing.expressions import ExpressionError, parse
from routing.rules import compile_rules

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


class _Loop:
    """The discrete-event loop both simulations share: a heap of arrivals, hang-ups and
    patience ends on a virtual clock, the engine's own deadlines between them, and agents who
    accept every offer at once. Subclasses say who the agents are, what arrives and what an
    answered call costs."""

    engine: Engine

    def __init__(self, calls: int, arrival_rate_per_s: float, rng: random.Random) -> None:
        self.calls = calls
        self.arrival_rate_per_s = arrival_rate_per_s
        self.rng = rng
        self.t = 0.0
        self.heap: list[tuple[float, int, int, int]] = []
        self.seq = 0
        n = calls + 1  # interaction ids run 1 .. calls
        self.arrived_at = [0.0] * n
        self.delay_s: list[float | None] = [None] * n
        self.abandoned = [False] * n
        self.agent_of = [0] * n
        self.resolved = 0
        self.busy = 0
        self.busy_area = 0.0  # integral of busy agents over time since 0

    def agent_events(self) -> Iterable[AgentStateChanged]:
        raise NotImplementedError

    def arrive(self, iid: int) -> None:
        raise NotImplementedError

    def answered(self, iid: int, agent_id: int) -> None:
        raise NotImplementedError

    def play(self) -> None:
        for event in self.agent_events():
            self.feed(event)
        self.push(self.rng.expovariate(self.arrival_rate_per_s), _ARRIVAL, 1)
        while self.resolved < self.calls:
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

    def advance(self, t: float) -> None:
        self.busy_area += self.busy * (t - self.t)
        self.t = t

    def now(self) -> datetime:
        return START_AT + timedelta(seconds=self.t)

    def push(self, t: float, kind: int, iid: int) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (t, self.seq, kind, iid))


class _Run(_Loop):
    """The mutable state of one simulation; lives only inside ``simulate``."""

    def __init__(self, scenario: Scenario, rng: random.Random) -> None:
        super().__init__(scenario.calls, scenario.arrival_rate_per_s, rng)
        self.s = scenario
        queue = Queue(
            QUEUE,
            frozenset({Channel.VOICE}),
            offer_timeout_s=OFFER_TIMEOUT_S,
            wrap_up_s=0.0,
        )
        self.engine = Engine({QUEUE: queue})
        self.handling_s = [0.0] * (scenario.calls + 1)
        # busy_area and time at the first arrival of each batch, and at the last arrival
        self.marks: list[tuple[float, float]] = []
        self.first_of_batch = set(_batch_starts(scenario.calls, scenario.warmup))

    # ------------------------------------------------------------------ the calls
    def agent_events(self) -> Iterable[AgentStateChanged]:
        for agent_id in range(1, self.s.agents + 1):
            yield AgentStateChanged(agent_id, Presence.AVAILABLE, {Channel.VOICE: 1})

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

    def answered(self, iid: int, agent_id: int) -> None:
        self.delay_s[iid] = self.t - self.arrived_at[iid]
        self.agent_of[iid] = agent_id
        self.busy += 1
        self.resolved += 1
        self.push(self.t + self.handling_s[iid], _HANG_UP, iid)

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


# ====================================================================== multi-skill comparison

MAX_PROFICIENCY = 5
ROUTINGS = ("fifo", "most_skilled", "escalation")
_CALL_TYPE = "call_type"  # the interaction attribute the rules look at


@dataclass(frozen=True, slots=True)
class AgentGroup:
    """``count`` agents with the same skills; ``skills`` are (name, proficiency 0..5) pairs."""

    count: int
    skills: tuple[tuple[str, int], ...]

    @classmethod
    def of(cls, count: int, **skills: int) -> AgentGroup:
        """``AgentGroup.of(4, billing=5)``: four agents with billing at proficiency 5."""
        return cls(count, tuple(sorted(skills.items())))

    def level(self, skill: str) -> int:
        return dict(self.skills).get(skill, 0)


DEFAULT_CALL_TYPES: tuple[tuple[str, float], ...] = (
    ("billing", 0.5),
    ("tech", 0.3),
    ("spanish", 0.2),
)
DEFAULT_TEAM: tuple[AgentGroup, ...] = (
    AgentGroup.of(4, billing=5),
    AgentGroup.of(2, tech=5),
    AgentGroup.of(2, spanish=5),
    AgentGroup.of(4, billing=2, tech=2, spanish=2),
)


@dataclass(frozen=True, slots=True)
class MultiSkillScenario:
    """A team with skill proficiencies facing several call types; see ``simulate_multiskill``.

    The defaults are the scenario ``contact-hub simulate --multiskill`` runs: 12 agents (4
    billing, 2 tech and 2 Spanish specialists at proficiency 5 with no other skill, and 4
    generalists at 2 on all three), calls 50 % billing, 30 % tech, 20 % Spanish, 6 Erlangs
    at the specialists' pace (AHT 180 s), answer target 20 s, escalation after 30 s.
    """

    call_types: tuple[tuple[str, float], ...] = DEFAULT_CALL_TYPES  # (skill, share of calls)
    team: tuple[AgentGroup, ...] = DEFAULT_TEAM
    arrival_rate_per_s: float = 6.0 / 180.0
    aht_s: float = 180.0  # mean handling time at proficiency MAX_PROFICIENCY
    sla_s: float = 20.0
    calls: int = 20_000
    seed: int = 1
    warmup_calls: int | None = None
    patience_s: float | None = None
    escalate_after_s: float = 30.0  # escalation: time on the expert target before widening
    expert_level: int = 4  # escalation: the first target requires the skill at this level
    slowdown_per_level: float = 1.0 / 6.0  # handling time factor per level below the maximum

    def __post_init__(self) -> None:
        if not self.call_types:
            raise ValueError("call_types must list at least one call type")
        names = [name for name, _ in self.call_types]
        if len(set(names)) != len(names):
            raise ValueError(f"call_types must have distinct names (got {names})")
        for name, share in self.call_types:
            _require_skill_name(name)
            _require(
                0 < share < math.inf, f"the share of {name!r}", share, "a finite number above 0"
            )
        if not self.team:
            raise ValueError("team must have at least one agent group")
        for group in self.team:
            _require(group.count >= 1, "an agent group's count", group.count, "at least 1")
            for skill, level in group.skills:
                _require_skill_name(skill)
                _require(
                    0 <= level <= MAX_PROFICIENCY,
                    f"proficiency on {skill!r}",
                    level,
                    f"0 .. {MAX_PROFICIENCY}",
                )
        for name in names:
            if not any(g.level(name) >= 1 for g in self.team):
                raise ValueError(
                    f"nobody on the team has the skill {name!r}: its calls could never be "
                    f"answered under skill-based routing"
                )
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
        _require(
            0 < self.escalate_after_s < math.inf,
            "escalate_after_s",
            self.escalate_after_s,
            "a finite number above 0",
        )
        _require(
            1 <= self.expert_level <= MAX_PROFICIENCY,
            "expert_level",
            self.expert_level,
            f"1 .. {MAX_PROFICIENCY}",
        )
        _require(
            0 <= self.slowdown_per_level < math.inf,
            "slowdown_per_level",
            self.slowdown_per_level,
            "a finite number, at least 0",
        )
        if self.warmup_calls is not None:
            _require(self.warmup_calls >= 0, "warmup_calls", self.warmup_calls, "at least 0")
        if self.calls - self.warmup < 2:
            raise ValueError(
                f"calls must exceed the {self.warmup} warm-up calls by at least 2 "
                f"(got {self.calls})"
            )
        span_s = self.calls / self.arrival_rate_per_s
        if span_s > MAX_SPAN_S:
            raise ValueError(
                f"calls at this arrival_rate_per_s would take about {span_s:.3g} simulated "
                f"seconds; the limit is {MAX_SPAN_S:g}"
            )
        if self.patience_s is None and not self.traffic < self.agents:
            raise ValueError(
                f"unstable load: {self.traffic:g} Erlangs (at full proficiency) offered to "
                f"{self.agents} agents; without abandonment the queue grows without bound "
                f"(add agents, lower the load, or set patience_s)"
            )

    @property
    def agents(self) -> int:
        return sum(g.count for g in self.team)

    @property
    def warmup(self) -> int:
        """Calls discarded before measuring."""
        return self.calls // 10 if self.warmup_calls is None else self.warmup_calls

    @property
    def traffic(self) -> float:
        """Offered load in Erlangs if every call were handled at full proficiency."""
        return self.arrival_rate_per_s * self.aht_s

    def factor(self, proficiency: int) -> float:
        """Handling time multiplier: 1 at the maximum proficiency, more below it."""
        gap = MAX_PROFICIENCY - min(max(proficiency, 0), MAX_PROFICIENCY)
        return 1.0 + self.slowdown_per_level * gap

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["call_types"] = {name: share for name, share in self.call_types}
        data["team"] = [{"count": g.count, "skills": dict(g.skills)} for g in self.team]
        data["agents"] = self.agents
        data["traffic_erlangs"] = self.traffic
        data["warmup_calls"] = self.warmup
        return data


@dataclass(frozen=True, slots=True)
class MultiSkillResult:
    """What one routing set-up measured on a ``MultiSkillScenario``, after warm-up.

    ``mean_handling_s`` is over answered calls; ``expert_share`` is the share of answered
    calls taken by an agent at ``expert_level`` or above on the call's skill.
    """

    routing: str
    calls: int
    answered: int
    abandoned: int
    service_level: float
    asa_s: float | None
    mean_handling_s: float | None
    occupancy: float
    abandonment_rate: float
    expert_share: float | None
    measured_s: float

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def simulate_multiskill(
    scenario: MultiSkillScenario, routing: str, *, rng: random.Random | None = None
) -> MultiSkillResult:
    """Play ``scenario`` through the engine under one routing set-up (one of ``ROUTINGS``).

    The model
    ---------
    Like ``simulate`` (Poisson arrivals, agents who accept every offer at once, voice
    capacity 1, no wrap-up, the same warm-up, service level and occupancy), plus:

    - every call has a type, a skill name drawn with the ``call_types`` shares; the engine
      sees it as the attribute ``call_type``;
    - each agent has the skills of their ``AgentGroup`` (proficiency 0 .. 5; a skill not
      listed is 0), and is told to the engine with them;
    - a call's *base* handling time is exponential with mean ``aht_s``; the agent who
      answers it takes ``base * (1 + slowdown_per_level * (5 - p))``, ``p`` being their
      proficiency on the call's skill. With the default ``1/6``: 1.0x at 5, 1.5x at 2,
      about 1.83x at 0 (an agent without the skill, which only plain FIFO lets happen).

    Each call's type, base handling time, patience and the next gap are drawn at its arrival,
    in arrival order, from one ``random.Random(seed)``: every set-up sees the same calls
    (common random numbers), so differences between set-ups are the routing's doing.

    The set-ups, all one voice queue ``"sim"``:

    - ``fifo``: ``longest_idle``, no rules, so no skill requirement: the agent idle longest
      takes the oldest call whatever its type;
    - ``most_skilled``: strategy ``most_skilled`` and a rule per call type with one target
      requiring ``<skill> >= 1``; the best free agent on the call's skill takes it;
    - ``escalation``: ``longest_idle`` and a rule per call type with targets
      ``<skill> >= expert_level`` for ``escalate_after_s`` seconds, then ``<skill> >= 1``.
    """
    if routing not in ROUTINGS:
        raise ValueError(f"routing must be one of {', '.join(ROUTINGS)} (got {routing!r})")
    # A seeded, reproducible stream is the point here; nothing is secret.
    run = _MultiRun(scenario, routing, rng if rng is not None else random.Random(scenario.seed))  # noqa: S311
    run.play()
    return run.result()


def compare_routings(scenario: MultiSkillScenario) -> dict[str, MultiSkillResult]:
    """Every set-up of ``ROUTINGS`` on the same calls (each run from ``Random(seed)``)."""
    return {routing: simulate_multiskill(scenario, routing) for routing in ROUTINGS}


def _multiskill_engine(s: MultiSkillScenario, routing: str) -> Engine:
    queue = Queue(
        QUEUE,
        frozenset({Channel.VOICE}),
        offer_timeout_s=OFFER_TIMEOUT_S,
        wrap_up_s=0.0,
        strategy="most_skilled" if routing == "most_skilled" else "longest_idle",
    )
    raw: list[dict[str, object]] = []
    for name, _ in s.call_types:
        anyone_able: dict[str, object] = {"queue": QUEUE, "requires": f"{name} >= 1"}
        if routing == "most_skilled":
            targets = [anyone_able]
        elif routing == "escalation":
            expert: dict[str, object] = {
                "queue": QUEUE,
                "requires": f"{name} >= {s.expert_level}",
                "timeout_s": s.escalate_after_s,
            }
            targets = [expert, anyone_able]
        else:
            continue
        raw.append({"name": name, "when": f'{_CALL_TYPE} == "{name}"', "targets": targets})
    return Engine({QUEUE: queue}, rules=compile_rules(raw, [QUEUE]))


class _MultiRun(_Loop):
    """The mutable state of one multi-skill run; lives only inside ``simulate_multiskill``."""

    def __init__(self, scenario: MultiSkillScenario, routing: str, rng: random.Random) -> None:
        super().__init__(scenario.calls, scenario.arrival_rate_per_s, rng)
        self.s = scenario
        self.routing = routing
        self.engine = _multiskill_engine(scenario, routing)
        self.skills: dict[int, dict[str, int]] = {}
        for group in scenario.team:
            for _ in range(group.count):
                self.skills[len(self.skills) + 1] = dict(group.skills)
        self.type_names = [name for name, _ in scenario.call_types]
        total = sum(share for _, share in scenario.call_types)
        self.cumulative = list(
            itertools.accumulate(share / total for _, share in scenario.call_types)
        )
        n = scenario.calls + 1  # interaction ids run 1 .. calls
        self.call_type = [""] * n
        self.base_s = [0.0] * n
        self.handling_s: list[float | None] = [None] * n
        self.expert = [False] * n
        self.first_mark: tuple[float, float] | None = None
        self.last_mark: tuple[float, float] | None = None

    def agent_events(self) -> Iterable[AgentStateChanged]:
        for agent_id, skills in self.skills.items():
            yield AgentStateChanged(agent_id, Presence.AVAILABLE, {Channel.VOICE: 1}, skills)

    def arrive(self, iid: int) -> None:
        s = self.s
        self.arrived_at[iid] = self.t
        pick = bisect.bisect_right(self.cumulative, self.rng.random())
        self.call_type[iid] = self.type_names[min(pick, len(self.type_names) - 1)]
        self.base_s[iid] = self.rng.expovariate(1.0 / s.aht_s)
        if s.patience_s is not None:
            self.push(self.t + self.rng.expovariate(1.0 / s.patience_s), _PATIENCE_OVER, iid)
        if iid == s.warmup + 1:
            self.first_mark = (self.t, self.busy_area)
        if iid < s.calls:
            self.push(self.t + self.rng.expovariate(s.arrival_rate_per_s), _ARRIVAL, iid + 1)
        else:
            self.last_mark = (self.t, self.busy_area)
        attributes = {_CALL_TYPE: self.call_type[iid]}
        self.feed(InteractionQueued(iid, QUEUE, Channel.VOICE, 0, self.now(), attributes))

    def answered(self, iid: int, agent_id: int) -> None:
        level = self.skills[agent_id].get(self.call_type[iid], 0)
        handling = self.base_s[iid] * self.s.factor(level)
        self.delay_s[iid] = self.t - self.arrived_at[iid]
        self.handling_s[iid] = handling
        self.expert[iid] = level >= self.s.expert_level
        self.agent_of[iid] = agent_id
        self.busy += 1
        self.resolved += 1
        self.push(self.t + handling, _HANG_UP, iid)

    def result(self) -> MultiSkillResult:
        s = self.s
        measured = range(s.warmup + 1, s.calls + 1)
        delays = [d for i in measured if (d := self.delay_s[i]) is not None]
        handled = [h for i in measured if (h := self.handling_s[i]) is not None]
        experts = sum(1 for i in measured if self.expert[i])
        assert self.first_mark is not None and self.last_mark is not None
        (t_first, area_first), (t_last, area_last) = self.first_mark, self.last_mark
        span = t_last - t_first
        calls = len(measured)
        abandoned = calls - len(delays)
        return MultiSkillResult(
            routing=self.routing,
            calls=calls,
            answered=len(delays),
            abandoned=abandoned,
            service_level=sum(1 for d in delays if d <= s.sla_s) / calls,
            asa_s=sum(delays) / len(delays) if delays else None,
            mean_handling_s=sum(handled) / len(handled) if handled else None,
            occupancy=(area_last - area_first) / (s.agents * span) if span > 0 else 0.0,
            abandonment_rate=abandoned / calls,
            expert_share=experts / len(delays) if delays else None,
            measured_s=span,
        )


def _require_skill_name(name: str) -> None:
    try:
        expression = parse(f"{name} >= 1", missing=0)
    except ExpressionError:
        expression = None
    if expression is None or expression.names != {name}:
        raise ValueError(
            f"{name!r} cannot be a skill name: use letters, digits and _ (not a keyword)"
        )
