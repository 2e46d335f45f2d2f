"""Who may see which interactions and customers (pure): the one place the scoping rules live.

Supervisors and admins see every interaction and customer. An agent sees an interaction that
is offered to them now or that they hold or held (``agent_id``: assigned, in wrap-up or ended
by them), and a customer one of whose interactions they may see: the customers they are
working with or have worked with. Everything else is refused with ``Forbidden`` naming what
was asked for, so an agent's console never shows another agent's conversations.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from hub.auth import SUPERVISORS
from hub.errors import Forbidden
from hub.model import Interaction, User


def sees_everything(user: User) -> bool:
    return user.role in SUPERVISORS


def may_see_interaction(user: User, interaction: Interaction, offered: Collection[int]) -> bool:
    """``offered``: the interaction ids offered to ``user`` right now."""
    return (
        sees_everything(user)
        or interaction.agent_id == user.user_id
        or interaction.interaction_id in offered
    )


def require_interaction(user: User, interaction: Interaction, offered: Collection[int]) -> None:
    if not may_see_interaction(user, interaction, offered):
        raise Forbidden(f"interaction {interaction.interaction_id} is not yours to see")


def require_customer(
    user: User, customer_id: int, interactions: Iterable[Interaction], offered: Collection[int]
) -> None:
    """``interactions``: all of the customer's interactions."""
    if sees_everything(user):
        return
    if not any(may_see_interaction(user, i, offered) for i in interactions):
        raise Forbidden(f"customer {customer_id} is not one you are working with")
