"""The interaction lifecycle: the one place that says which state changes are legal.

    queued --offer--> offered --accept--> assigned --close--> wrap_up --end--> ended
       ^                 |
       +----requeue------+        (declined, expired, agent away or offline)
    queued / offered --abandon--> abandoned
    queued --self_serve--> ended   (a web-chat visitor answered by an article, no agent)
    assigned --transfer--> queued   (to another queue or a named colleague)

``ended`` and ``abandoned`` are final. Transitions are data (``TRANSITIONS``); ``advance``
refuses anything else with ``IllegalTransition`` and changes nothing.
"""

from __future__ import annotations

import enum

from hub.errors import IllegalTransition
from hub.model import InteractionState as S


class Action(enum.StrEnum):
    OFFER = "offer"
    ACCEPT = "accept"
    REQUEUE = "requeue"
    CLOSE = "close"
    END = "end"
    ABANDON = "abandon"
    TRANSFER = "transfer"
    SELF_SERVE = "self_serve"


TRANSITIONS: dict[tuple[S, Action], S] = {
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

ACTIVE_STATES = frozenset({S.QUEUED, S.OFFERED, S.ASSIGNED, S.WRAP_UP})
FINAL_STATES = frozenset({S.ENDED, S.ABANDONED})


def advance(state: S, action: Action) -> S:
    """Return the state after ``action`` or raise ``IllegalTransition``."""
    try:
        return TRANSITIONS[(state, action)]
    except KeyError:
        raise IllegalTransition(
            f"cannot {action.value} an interaction that is {state.value}"
        ) from None


def sources(action: Action) -> frozenset[S]:
    """The states from which ``action`` is legal (used for conditional updates)."""
    return frozenset(src for (src, act) in TRANSITIONS if act is action)
