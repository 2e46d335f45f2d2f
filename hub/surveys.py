"""Satisfaction surveys, the use case: when to ask, and taking a customer's rating.

When an interaction's agent closes it (or its customer leaves) and its queue surveys that
channel, ``SurveyDue`` is announced for the channel to ask in its own way. A rating from any
channel comes through ``rate``: checked (``hub.satisfaction``), stored, then announced
(``InteractionRated``: the agent's console, webhooks).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from hub.errors import Conflict
from hub.events import (
    InteractionCreated,
    InteractionRated,
    MessageReceived,
    SurveyDue,
    WrapUpStarted,
)
from hub.model import Channel, Interaction
from hub.ports import Clock, EventBus, RatingStore
from hub.satisfaction import Rating, SurveyPolicy, followup_text, parse_comment, parse_score

log = logging.getLogger(__name__)

NO_SURVEY = SurveyPolicy()


class Surveys:
    def __init__(
        self,
        *,
        ratings: RatingStore,
        bus: EventBus,
        clock: Clock,
        policies: Mapping[str, SurveyPolicy],
        priorities: Mapping[str, int],
        agent_name: Callable[[int], Awaitable[str | None]],
    ) -> None:
        self._ratings = ratings
        self._bus = bus
        self._clock = clock
        self._policies = dict(policies)
        self._priorities = dict(priorities)
        self._agent_name = agent_name
        bus.subscribe(WrapUpStarted, self._on_wrap_up)

    def policy(self, queue: str) -> SurveyPolicy:
        return self._policies.get(queue, NO_SURVEY)

    def surveys(self, interaction: Interaction) -> bool:
        """Whether the customer of this (ended) interaction is asked for a rating."""
        return self.policy(interaction.queue).surveys(interaction)

    async def _on_wrap_up(self, e: WrapUpStarted) -> None:
        if self.surveys(e.interaction):
            log.info(
                "interaction_id=%s ended; satisfaction survey due on %s",
                e.interaction.interaction_id,
                e.interaction.channel.value,
            )
            await self._bus.publish(SurveyDue(e.interaction))

    async def rate(
        self, interaction: Interaction, *, score: Any, comment: Any, channel: Channel
    ) -> Rating:
        """Store the customer's rating of ``interaction`` (the caller has checked that the
        customer is the interaction's), then announce it; a ``comment`` of None keeps the
        one given before. Refused whole (InvalidInput) for
        a bad score or comment, Conflict when the queue asked for none or it is final."""
        value = parse_score(score)
        text = None if comment is None else parse_comment(comment)
        if not self.surveys(interaction):
            raise Conflict(f"interaction {interaction.interaction_id} has no satisfaction survey")
        rating, before = await self._ratings.save_rating(
            interaction.interaction_id,
            score=value,
            comment=text,
            channel=channel,
            now=self._clock(),
        )
        log.info(
            "interaction_id=%s rated %d on %s%s",
            interaction.interaction_id,
            rating.score,
            channel.value,
            " (changed)" if before is not None else "",
        )
        await self._bus.publish(InteractionRated(interaction, rating, replaced=before is not None))
        policy = self.policy(interaction.queue)
        if policy.followup_queue is not None and policy.wants_followup(rating.score):
            await self._follow_up(interaction, rating, policy.followup_queue)
        return rating

    async def _follow_up(self, interaction: Interaction, rating: Rating, queue: str) -> None:
        """A low rating: a follow-up in the supervisors' queue, routed like any contact."""
        name = None if rating.agent_id is None else await self._agent_name(rating.agent_id)
        opened = await self._ratings.open_followup(
            interaction.interaction_id,
            queue=queue,
            priority=self._priorities.get(queue, 0),
            body=followup_text(rating, agent_name=name, queue=interaction.queue),
            now=self._clock(),
        )
        if opened is None:
            log.info(
                "interaction_id=%s low rating: no new follow-up (one exists, or the customer "
                "is in a new contact on that thread)",
                interaction.interaction_id,
            )
            return
        followup, message = opened
        log.info(
            "interaction_id=%s low rating %d: follow-up interaction_id=%s in queue %s",
            interaction.interaction_id,
            rating.score,
            followup.interaction_id,
            queue,
        )
        await self._bus.publish(InteractionCreated(followup))
        await self._bus.publish(MessageReceived(followup, message))
