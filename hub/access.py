"""Who may see which interactions and customers (pure): the one place the scoping rules live.

Supervisors and admins see every interaction and customer, and so does an integration's API
key on a route whose scope it carries (``hub.web``: the scope is the key's limit). An agent
sees an interaction that is offered to them now or that they hold or held (``agent_id``:
assigned, in wrap-up or ended by them), and a customer one of whose interactions they may
see: the customers they are working with or have worked with. Everything else is refused
with ``Forbidden`` naming what was asked for, so an agent's console never shows another
agent's conversations.

A supervisor may be limited to some queues (``agents[].supervises``; no list: every queue,
and admins always oversee every queue): ``Oversight.queues_of`` says which, ``None`` meaning
all. Within that limit they see and act on those queues' interactions and the agents who
serve those queues (an agent serves a queue whose channels and requirements they meet);
the wallboard's live picture is cut down by ``snapshot_within``. Such a supervisor sees an
interaction (and its email thread) only in one of their queues, and a customer (with their
attachments) only when one of the customer's interactions is in one of them; otherwise the
same ``Forbidden`` as an agent's.

Knowledge base articles are written by supervisors and admins; every staff member reads the
published ones, and only those who may write them (and API keys) see drafts too:
``sees_drafts``, ``require_article``.

Follow-ups (``hub.followups``): whoever may act on a customer may schedule one on them and
list theirs. An agent lists their own (owned or created by them); supervisors, admins and API
keys list everyone's. A scheduled follow-up is cancelled by its creator, its owner, a
supervisor or admin, or an API key: ``require_followup_cancel``.

Linking a conversation to another customer is a merge (``hub.customers``): the customer that
goes (``from_customer_id``) is the one the caller must be allowed to act on, by the rules above
(an agent: one they work or worked with); the survivor need only be live, since staff find it
by search, which is open to every staff member. ``require_merge`` says so. Afterwards the
caller sees the survivor through the interactions that moved; the merge is audited and an
admin can undo it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace

from hub.auth import SUPERVISORS
from hub.errors import Forbidden
from hub.events import RoutingSnapshotTaken
from hub.model import Interaction, Role, User
from hub.ports import ApiKey

Caller = User | ApiKey


Queues = frozenset[str] | None  # None: every queue
# A customer rule: (caller, customer_id, its interactions, offered ids, queues) -> None or raise.
CustomerRule = Callable[[Caller, int, Iterable[Interaction], Collection[int], Queues], None]


def sees_everything(who: Caller) -> bool:
    """Not limited to their own interactions: supervisors, admins and API keys (a supervisor
    may still be limited to some queues, see ``sees_all_queues``)."""
    return isinstance(who, ApiKey) or who.role in SUPERVISORS


def sees_all_queues(who: Caller, queues: Queues) -> bool:
    """Sees every interaction and customer: an API key, an admin, an unlimited supervisor."""
    return sees_everything(who) and queues is None


def may_see_interaction(
    who: Caller, interaction: Interaction, offered: Collection[int], queues: Queues = None
) -> bool:
    """``offered``: the interaction ids offered to ``who`` right now; ``queues``: those a
    supervisor oversees (``Oversight.queues_of``; None: every queue)."""
    if isinstance(who, ApiKey):
        return True
    if who.role in SUPERVISORS:
        return in_queues(interaction.queue, queues)
    return interaction.agent_id == who.user_id or interaction.interaction_id in offered


def require_interaction(
    user: Caller, interaction: Interaction, offered: Collection[int], queues: Queues = None
) -> None:
    if not may_see_interaction(user, interaction, offered, queues):
        raise Forbidden(f"interaction {interaction.interaction_id} is not yours to see")


def require_customer(
    user: Caller,
    customer_id: int,
    interactions: Iterable[Interaction],
    offered: Collection[int],
    queues: Queues = None,
) -> None:
    """``interactions``: the customer's interactions (all of them, or at least those the
    caller may see)."""
    if sees_all_queues(user, queues):
        return
    if not any(may_see_interaction(user, i, offered, queues) for i in interactions):
        if sees_everything(user):
            raise Forbidden(f"customer {customer_id} has no contact in a queue you supervise")
        raise Forbidden(f"customer {customer_id} is not one you are working with")


def sees_drafts(who: Caller) -> bool:
    """Reads unpublished knowledge base articles: supervisors, admins and API keys."""
    return sees_everything(who)


def require_article(who: Caller, article_id: int, published: bool) -> None:
    if not published and not sees_drafts(who):
        raise Forbidden(f"article {article_id} is a draft; agents read published articles")


def require_merge(
    user: Caller,
    merged_id: int,
    interactions: Iterable[Interaction],
    offered: Collection[int],
    queues: Queues = None,
) -> None:
    """May ``user`` fold customer ``merged_id`` into another (any live one)? Only when they
    may act on ``merged_id`` (``interactions``: its interactions, as for ``require_customer``)."""
    require_customer(user, merged_id, interactions, offered, queues)


@dataclass(frozen=True, slots=True)
class Oversight:
    """Which queues each supervisor oversees, by lower-cased e-mail (``agents[].supervises``)."""

    supervises: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def queues_of(self, user: User) -> Queues:
        if user.role is not Role.SUPERVISOR:
            return None  # admins oversee everything; agents never reach supervisor doors
        return self.supervises.get(user.email.lower())


def in_queues(queue: str, queues: Queues) -> bool:
    return queues is None or queue in queues


def require_queue(queue: str, queues: Queues) -> None:
    if not in_queues(queue, queues):
        raise Forbidden(f"queue {queue!r} is not one you supervise")


def serves_any(served: Iterable[str], queues: Queues) -> bool:
    """Whether an agent serving ``served`` is within ``queues``."""
    return queues is None or not queues.isdisjoint(served)


def require_agent(snapshot: RoutingSnapshotTaken, agent_id: int, queues: Queues) -> None:
    """Forbidden unless the agent serves one of ``queues`` (by the router's live picture)."""
    if queues is None:
        return
    served = next((a.queues for a in snapshot.agents if a.agent_id == agent_id), ())
    if not serves_any(served, queues):
        raise Forbidden(f"agent {agent_id} does not serve a queue you supervise")


def require_agent_figures(
    who: Caller, snapshot: RoutingSnapshotTaken, agent_id: int, queues: Queues
) -> None:
    """An agent's own figures (their satisfaction ratings): an agent sees only their own;
    supervisors those of the agents serving their queues (``require_agent``)."""
    if isinstance(who, User) and who.role is Role.AGENT:
        if who.user_id != agent_id:
            raise Forbidden(f"agent {agent_id}'s figures are not yours")
        return
    require_agent(snapshot, agent_id, queues)


def snapshot_within(snapshot: RoutingSnapshotTaken, queues: Queues) -> RoutingSnapshotTaken:
    """The live picture cut down to ``queues`` and the agents serving them."""
    if queues is None:
        return snapshot
    return replace(
        snapshot,
        queues=tuple(q for q in snapshot.queues if q.name in queues),
        agents=tuple(a for a in snapshot.agents if serves_any(a.queues, queues)),
    )


def followups_of(who: Caller, agent_id: int | None) -> int | None:
    """Whose follow-ups ``who`` lists when asking for ``agent_id``'s (None: everyone's): an
    agent only their own."""
    if sees_everything(who):
        return agent_id
    assert isinstance(who, User)
    if agent_id is not None and agent_id != who.user_id:
        raise Forbidden(f"agent {agent_id}'s follow-ups are not yours to see")
    return who.user_id


def require_followup_cancel(who: Caller, followup_id: int, owner_id: int, created_by: int) -> None:
    if sees_everything(who):
        return
    assert isinstance(who, User)
    if who.user_id not in (owner_id, created_by):
        raise Forbidden(f"follow-up {followup_id} is not yours to cancel")
