"""Routing decisions per second and per-decision cost at 100, 1,000 and 10,000 agents.

Each agent has 5 of 50 skills (proficiency 1-5) and takes one chat at a time. Interactions
arrive through a rule that sends them to one of 10 skill requirements (``skill_N >= 2``,
escalating to anyone after 30 s). One *decision* is the engine handling a new interaction
and offering it to the right agent; the benchmark then accepts and closes it so the agent is
free again, and times only the decisions (the whole cycle is printed too).

    .venv/bin/python bench/routing_decisions.py [--decisions 20000] [--sizes 100,1000,10000]

Figures are compared as a ratio within one run (the machine is noisy): the aim is at least
100,000 decisions/s at 10,000 agents on one core, and a cost at 10,000 agents no more than
1.5x the cost at 1,000.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hub.model import Channel, Presence, Queue
from routing.commands import OfferInteraction
from routing.engine import Engine
from routing.events import AgentClosed, AgentStateChanged, InteractionQueued, OfferAccepted
from routing.rules import compile_rules

SKILLS = [f"skill_{n}" for n in range(50)]
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def build(agents: int, seed: int) -> Engine:
    rng = random.Random(seed)
    queues = {
        "support": Queue("support", frozenset({Channel.WEBCHAT}), offer_timeout_s=20, wrap_up_s=0)
    }
    rules = compile_rules(
        [
            {
                "name": f"needs skill_{n}",
                "when": f"first_message == 'topic {n}'",
                "targets": [
                    {"queue": "support", "requires": f"skill_{n} >= 2", "timeout_s": 30},
                    {"queue": "support"},
                ],
            }
            for n in range(10)
        ],
        queues,
    )
    engine = Engine(queues, rules=rules)
    for agent_id in range(1, agents + 1):
        skills = {s: rng.randint(1, 5) for s in rng.sample(SKILLS, 5)}
        # Everyone can serve every requirement often enough: give each agent one of the 10.
        skills[f"skill_{agent_id % 10}"] = rng.randint(2, 5)
        engine.handle(
            AgentStateChanged(agent_id, Presence.AVAILABLE, {Channel.WEBCHAT: 1}, skills), T0
        )
    return engine


def run(agents: int, decisions: int, seed: int, warmup: int = 2000) -> tuple[float, float]:
    engine = build(agents, seed)
    rng = random.Random(seed + 1)
    now = T0
    decide_s = 0.0
    started = time.perf_counter()
    for iid in range(1, warmup + decisions + 1):
        if iid == warmup + 1:  # pools built and caches warm: start the clocks
            decide_s = 0.0
            started = time.perf_counter()
        now += timedelta(milliseconds=10)
        event = InteractionQueued(
            iid, "support", Channel.WEBCHAT, 0, now, {"first_message": f"topic {rng.randrange(10)}"}
        )
        t = time.perf_counter()
        commands = engine.handle(event, now)
        decide_s += time.perf_counter() - t
        offer = next(c for c in commands if isinstance(c, OfferInteraction))
        engine.handle(OfferAccepted(iid, offer.agent_id), now)
        engine.handle(AgentClosed(iid, offer.agent_id), now)
    return decide_s, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--decisions", type=int, default=20_000)
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    costs: dict[int, float] = {}
    print(f"{'agents':>8} {'decisions/s':>12} {'us/decision':>12} {'cycles/s':>10}")
    for size in (int(s) for s in args.sizes.split(",")):
        decide_s, total_s = run(size, args.decisions, args.seed)
        costs[size] = decide_s / args.decisions
        print(
            f"{size:>8} {args.decisions / decide_s:>12,.0f} {costs[size] * 1e6:>12.1f}"
            f" {args.decisions / total_s:>10,.0f}"
        )
    if 1000 in costs and 10000 in costs:
        print(f"cost ratio 10,000 / 1,000 agents: {costs[10000] / costs[1000]:.2f}")


if __name__ == "__main__":
    main()
