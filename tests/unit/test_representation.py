"""The wallboard tile's staffing (``hub.representation.staffing``), as the tile and
``GET /api/v1/queues`` both show it: who serves the queue, and what they are doing now."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hub.events import AgentSnapshot
from hub.model import Channel, Presence
from hub.representation import staffing

AT = datetime(2026, 1, 2, 9, tzinfo=UTC)


def agent(state: Presence, load: int = 0, queues: tuple[str, ...] = ("support",)) -> AgentSnapshot:
    return AgentSnapshot(
        1, "A", state, AT, {Channel.WEBCHAT: load}, {Channel.WEBCHAT: 3}, None, None, queues
    )


@pytest.mark.parametrize(
    ("agents", "expected"),
    [
        ([], (0, 0, 0)),
        ([agent(Presence.AVAILABLE)], (1, 0, 0)),
        ([agent(Presence.AVAILABLE, load=2)], (0, 1, 0)),  # available but holding work: busy
        ([agent(Presence.AWAY)], (0, 0, 1)),
        ([agent(Presence.AWAY, load=1)], (0, 0, 1)),  # away with a chat still open: away
        ([agent(Presence.OFFLINE)], (0, 0, 0)),  # signed out: not counted
        ([agent(Presence.AVAILABLE, queues=("billing",))], (0, 0, 0)),  # serves another queue
        (
            [agent(Presence.AVAILABLE), agent(Presence.AVAILABLE, load=1), agent(Presence.AWAY)],
            (1, 1, 1),
        ),
    ],
)
def test_staffing_counts_the_queues_agents_by_what_they_do(
    agents: list[AgentSnapshot], expected: tuple[int, int, int]
) -> None:
    counts = staffing("support", agents)
    assert (counts["available"], counts["busy"], counts["away"]) == expected
