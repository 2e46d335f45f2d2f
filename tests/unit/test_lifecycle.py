"""The interaction lifecycle: every (state, action) pair, legal or not."""

from __future__ import annotations

import itertools

import pytest

from hub.errors import Conflict, IllegalTransition
from hub.lifecycle import ACTIVE_STATES, FINAL_STATES, Action, advance, sources
from hub.model import InteractionState as S

# The diagram in the module docstring, written out independently of TRANSITIONS.
LEGAL = {
    (S.QUEUED, Action.OFFER): S.OFFERED,
    (S.OFFERED, Action.ACCEPT): S.ASSIGNED,
    (S.OFFERED, Action.REQUEUE): S.QUEUED,
    (S.ASSIGNED, Action.CLOSE): S.WRAP_UP,
    (S.WRAP_UP, Action.END): S.ENDED,
    (S.QUEUED, Action.ABANDON): S.ABANDONED,
    (S.OFFERED, Action.ABANDON): S.ABANDONED,
    (S.ASSIGNED, Action.TRANSFER): S.QUEUED,
    (S.QUEUED, Action.SELF_SERVE): S.ENDED,
}
ILLEGAL = [pair for pair in itertools.product(S, Action) if pair not in LEGAL]


@pytest.mark.parametrize(("state", "action", "after"), [(s, a, n) for (s, a), n in LEGAL.items()])
def test_lifecycle_legal_transition_gives_next_state(state: S, action: Action, after: S) -> None:
    assert advance(state, action) is after


@pytest.mark.parametrize(("state", "action"), ILLEGAL)
def test_lifecycle_illegal_transition_raises_conflict(state: S, action: Action) -> None:
    with pytest.raises(IllegalTransition) as caught:
        advance(state, action)

    assert isinstance(caught.value, Conflict)
    assert caught.value.code == "conflict"
    assert caught.value.message == f"cannot {action.value} an interaction that is {state.value}"


def test_lifecycle_table_covers_every_pair() -> None:
    assert len(LEGAL) + len(ILLEGAL) == len(S) * len(Action) == 48


@pytest.mark.parametrize("state", sorted(FINAL_STATES))
def test_lifecycle_final_states_allow_nothing(state: S) -> None:
    for action in Action:
        with pytest.raises(IllegalTransition):
            advance(state, action)


def test_lifecycle_states_are_active_or_final() -> None:
    assert ACTIVE_STATES | FINAL_STATES == set(S)
    assert not ACTIVE_STATES & FINAL_STATES
    assert FINAL_STATES == {S.ENDED, S.ABANDONED}


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        (Action.OFFER, {S.QUEUED}),
        (Action.ACCEPT, {S.OFFERED}),
        (Action.REQUEUE, {S.OFFERED}),
        (Action.CLOSE, {S.ASSIGNED}),
        (Action.END, {S.WRAP_UP}),
        (Action.ABANDON, {S.QUEUED, S.OFFERED}),
    ],
)
def test_lifecycle_sources_lists_states_an_action_is_legal_from(
    action: Action, expected: set[S]
) -> None:
    assert sources(action) == frozenset(expected)
    for state in S:
        legal = state in expected
        try:
            advance(state, action)
        except IllegalTransition:
            assert not legal
        else:
            assert legal
