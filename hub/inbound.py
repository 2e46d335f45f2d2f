"""The customer side: one path for every inbound contact (persist, then announce, then route)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from hub.events import InteractionCreated, MessageReceived, Typing
from hub.lifecycle import ACTIVE_STATES
from hub.model import Channel, Identity, Interaction, InteractionState, Message
from hub.ports import Clock, EventBus, InboundContact, InboundRecorded, Router, Store

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ThreadState:
    """What a returning customer sees: their open conversation, if any."""

    conversation_id: int | None
    interaction: Interaction | None
    messages: tuple[Message, ...]
    agent_name: str | None
    position: int | None


class Inbound:
    def __init__(
        self,
        *,
        store: Store,
        bus: EventBus,
        router: Router,
        clock: Clock,
        queue_for: Mapping[Channel, str],
    ) -> None:
        self._store = store
        self._bus = bus
        self._router = router
        self._clock = clock
        self._queue_for = dict(queue_for)

    async def receive(self, contact: InboundContact) -> InboundRecorded:
        """Store an inbound message (opening a conversation and interaction when needed)."""
        queue = self._router.queue(self._queue_for[contact.channel])
        recorded = await self._store.record_inbound(
            contact, queue=queue.name, priority=queue.priority, now=self._clock()
        )
        interaction = recorded.interaction
        if recorded.interaction_created:
            log.info(
                "interaction_id=%s created on %s in queue %s",
                interaction.interaction_id,
                contact.channel.value,
                queue.name,
            )
            await self._bus.publish(InteractionCreated(interaction))
        await self._bus.publish(MessageReceived(interaction, recorded.message))
        return recorded

    async def identify(self, identity: Identity, *, name: str | None, email: str | None) -> int:
        return await self._store.identify(identity, name=name, email=email, now=self._clock())

    async def _active(self, channel: Channel, thread_key: str) -> Interaction | None:
        conversation = await self._store.open_conversation(channel, thread_key)
        if conversation is None:
            return None
        interaction = await self._store.latest_interaction(conversation.conversation_id)
        if interaction is None or interaction.state not in ACTIVE_STATES:
            return None
        return interaction

    async def leave(self, channel: Channel, thread_key: str) -> bool:
        """The customer ended the contact. False when there was nothing open."""
        interaction = await self._active(channel, thread_key)
        if interaction is None or interaction.state is InteractionState.WRAP_UP:
            return False
        await self._router.customer_left(interaction.interaction_id)
        return True

    async def typing(self, channel: Channel, thread_key: str, typing: bool, name: str) -> None:
        interaction = await self._active(channel, thread_key)
        if interaction is None or interaction.state is not InteractionState.ASSIGNED:
            return
        await self._bus.publish(
            Typing(
                interaction.interaction_id,
                interaction.conversation_id,
                interaction.agent_id,
                by_customer=True,
                typing=typing,
                author_name=name,
            )
        )

    async def thread(self, channel: Channel, thread_key: str) -> ThreadState:
        conversation = await self._store.open_conversation(channel, thread_key)
        if conversation is None:
            return ThreadState(None, None, (), None, None)
        interaction = await self._store.latest_interaction(conversation.conversation_id)
        messages = tuple(await self._store.messages(conversation.conversation_id))
        agent_name = None
        position = None
        if interaction is not None:
            if interaction.agent_id is not None and interaction.state in (
                InteractionState.ASSIGNED,
                InteractionState.WRAP_UP,
            ):
                agent = await self._store.user(interaction.agent_id)
                agent_name = agent.name if agent else None
            position = self._router.position(interaction.interaction_id)
        return ThreadState(
            conversation.conversation_id, interaction, messages, agent_name, position
        )
