"""The router's picture as other nodes receive it: JSON there and back, and a console's own
change applied at once."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from hub.cluster.view import RouterView, empty_view, parse_view, view_json
from hub.events import AgentSnapshot, AgentStateReported, QueueSnapshot, RoutingSnapshotTaken
from hub.model import Channel, Presence

AT = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
WEB = Channel.WEBCHAT


def _view() -> RouterView:
    return RouterView(
        RoutingSnapshotTaken(
            AT,
            (QueueSnapshot("support", 2, 1, 3, AT, 10, 8, 1, 0.75, 12.5, 30.0),),
            (
                AgentSnapshot(
                    7, "Ana", Presence.AVAILABLE, AT, {WEB: 1}, {WEB: 3}, None, {"fr": 2}, ("s",)
                ),
            ),
        ),
        {7: ((41, AT),)},
        {42: 1, 43: 2},
        frozenset({7}),
    )


def test_view_survives_the_trip_through_json() -> None:
    view = _view()
    assert parse_view(json.loads(json.dumps(view_json(view)))) == view


def test_view_answers_for_agents_it_knows_and_not_for_others() -> None:
    view = _view()
    ana = view.state_of(7, {WEB: 3})
    assert (ana.state, ana.load, ana.capacity) == (Presence.AVAILABLE, {WEB: 1}, {WEB: 3})
    assert view.offers_for(7) == [(41, AT)]
    stranger = view.state_of(8, {WEB: 2})
    assert (stranger.state, stranger.capacity) == (Presence.OFFLINE, {WEB: 2})
    assert view.offers_for(8) == []


def test_view_takes_a_fresher_state_for_one_agent_from_a_command_answer() -> None:
    later = datetime(2026, 3, 4, 5, 7, tzinfo=UTC)
    fresher = _view().with_agent(
        AgentStateReported(7, Presence.AWAY, {}, {WEB: 3}, later, "lunch"), [], "Ana"
    )
    ana = fresher.state_of(7, {})
    assert (ana.state, ana.reason, ana.state_since) == (Presence.AWAY, "lunch", later)
    assert fresher.offers_for(7) == []
    new = empty_view(AT).with_agent(AgentStateReported(9, Presence.AWAY, {}, {}), [], "Bo")
    assert [a.name for a in new.snapshot.agents] == ["Bo"]
