"""How long the wallboard takes to fold a busy day from its stored steps (hub.daybook).

The supervisors' namespace refolds today's figures at most once a second after a change
(``DAY_EVERY_S``); this measures the pure fold for a floor of 50 agents and 2,000, 10,000 and
50,000 interactions a day (6 steps each), so that budget can be judged. The database read
comes on top and is not measured here.

    .venv/bin/python bench/wallboard_day.py [--sizes 2000,10000,50000]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hub.daybook import fold
from hub.model import AgentStep, Channel, Interaction, InteractionState, Presence, Step

START = datetime(2026, 1, 1, tzinfo=UTC)
AGENTS = 50


def day(size: int, rng: random.Random) -> list[tuple[Interaction, list[Step]]]:
    records = []
    for iid in range(size):
        queued = START + timedelta(seconds=rng.uniform(0, 86_000))
        agent = rng.randrange(AGENTS)
        assigned = queued + timedelta(seconds=rng.expovariate(1 / 20))
        closed = assigned + timedelta(seconds=rng.expovariate(1 / 300))
        steps = [
            Step("queued", queued),
            Step("offered", queued, agent),
            Step("assigned", assigned, agent),
            Step("closed_by_agent", closed, agent),
            Step("wrap_up", closed, agent),
            Step("ended", closed + timedelta(seconds=15), agent),
        ]
        channel = rng.choice(list(Channel))
        inter = Interaction(
            iid, iid, iid, channel, "support", 0, InteractionState.ENDED, queued, queued, agent
        )
        records.append((inter, steps))
    return records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2000,10000,50000")
    args = parser.parse_args()
    rng = random.Random(1)
    agent_steps = [
        AgentStep(a, Presence.AVAILABLE, START + timedelta(hours=8)) for a in range(AGENTS)
    ]
    now = START + timedelta(hours=23, minutes=59)
    for size in (int(s) for s in args.sizes.split(",")):
        records = day(size, rng)
        started = time.perf_counter()
        result = fold(records, agent_steps, start=START, now=now, sla_s={"support": 20})
        took = time.perf_counter() - started
        q = result.queues["support"]
        print(f"{size:>7} interactions: fold {took * 1000:8.1f} ms  (answered {q.answered})")


if __name__ == "__main__":
    main()
