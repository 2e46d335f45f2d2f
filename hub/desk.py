"""The agent's desk: every use case an agent performs, with its rules and role checks.

The console adapter validates nothing itself: it passes the raw event data here and
translates the result (or the ``HubError``) into an acknowledgement.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from hub.auth import STAFF, SUPERVISORS, require_role
from hub.errors import Forbidden, InvalidInput
from hub.events import ReplySent, Typing
from hub.model import Channel, Interaction, InteractionState, Presence, User
from hub.ports import CallControl, Clock, EventBus, ReplyChannel, Router, Store
from hub.representation import (
    agent_state_json,
    message_json,
    note_json,
    offer_json,
    work_item_json,
)
from hub.text import require_int, require_text

log = logging.getLogger(__name__)

SETTABLE_STATES = {Presence.AVAILABLE.value: Presence.AVAILABLE, Presence.AWAY.value: Presence.AWAY}
NOTE_MAX_BYTES = 16 * 1024
PREVIEW_CHARS = 140


class Desk:
    def __init__(
        self,
        *,
        store: Store,
        bus: EventBus,
        router: Router,
        clock: Clock,
        max_message_bytes: int,
        away_reasons: tuple[str, ...] = (),
        queue_names: tuple[str, ...] = (),
        reply_channels: Mapping[Channel, ReplyChannel] | None = None,
        calls: CallControl | None = None,
    ) -> None:
        self._calls = calls
        self._away_reasons = away_reasons
        self._queue_names = queue_names
        self._store = store
        self._bus = bus
        self._router = router
        self._clock = clock
        self._max_bytes = max_message_bytes
        self._reply_channels = dict(reply_channels or {})

    # ------------------------------------------------------------------ presence
    async def connected(self, user: User) -> dict[str, Any]:
        require_role(user, STAFF)
        await self._router.agent_connected(user)
        return await self.hello(user)

    async def disconnected(self, agent_id: int) -> None:
        await self._router.agent_disconnected(agent_id)

    def state(self, user: User) -> dict[str, Any]:
        return agent_state_json(self._router.state_of(user.user_id))

    async def hello(self, user: User) -> dict[str, Any]:
        offers = []
        for interaction_id, expires_at in self._router.offers_for(user.user_id):
            inter = await self._store.interaction(interaction_id)
            customer = await self._store.customer_summary(inter.customer_id)
            first = await self._store.first_message(interaction_id)
            queue = self._router.queue(inter.queue)
            remaining = max(0.0, (expires_at - self._clock()).total_seconds())
            offers.append(
                offer_json(
                    inter,
                    customer,
                    first.body[:PREVIEW_CHARS] if first else "",
                    expires_at,
                    min(remaining, queue.offer_timeout_s),
                )
            )
        work = []
        for record in await self._store.interactions(agent_id=user.user_id, active_only=True):
            if record.interaction.state in (InteractionState.ASSIGNED, InteractionState.WRAP_UP):
                work.append(await self.work_item(record.interaction))
        return {
            "agent": {"agent_id": user.user_id, "name": user.name, "role": user.role.value},
            **self.state(user),
            "away_reasons": list(self._away_reasons),
            "queues": list(self._queue_names),
            "offers": offers,
            "work": work,
        }

    async def set_state(self, user: User, data: Any) -> dict[str, Any]:
        if not isinstance(data, dict) or data.get("state") not in SETTABLE_STATES:
            raise InvalidInput("state must be one of: " + ", ".join(SETTABLE_STATES))
        state = SETTABLE_STATES[data["state"]]
        reason = data.get("reason")
        if state is Presence.AWAY and reason is not None and reason not in self._away_reasons:
            raise InvalidInput("reason must be one of: " + ", ".join(self._away_reasons))
        if state is Presence.AVAILABLE:
            reason = None
        await self._router.set_state(user.user_id, state, reason)
        log.info("agent_id=%s set state %s (%s)", user.user_id, state.value, reason)
        return self.state(user)

    async def transfer(self, user: User, data: Any) -> None:
        """Hand an assigned interaction to a queue or to a named colleague."""
        interaction = await self._held(user, data)
        to_queue = data.get("queue")
        to_agent = data.get("agent_id")
        if to_queue is not None and not isinstance(to_queue, str):
            raise InvalidInput("queue must be a queue name")
        if to_agent is not None and (isinstance(to_agent, bool) or not isinstance(to_agent, int)):
            raise InvalidInput("agent_id must be an integer")
        if (to_queue is None) == (to_agent is None):
            raise InvalidInput("give exactly one of: queue, agent_id")
        await self._router.transfer(
            interaction.interaction_id, user.user_id, to_queue=to_queue, to_agent=to_agent
        )
        log.info(
            "interaction_id=%s transferred by agent_id=%s to %s",
            interaction.interaction_id,
            user.user_id,
            to_queue or f"agent {to_agent}",
        )

    # ------------------------------------------------------------------ offers
    async def accept(self, user: User, data: Any) -> dict[str, Any]:
        interaction_id = require_int(data, "interaction_id")
        interaction = await self._store.interaction(interaction_id)
        # A live call is accepted when the agent answers the phone the hub rings now; until
        # then the offer stands (and the work item shows the call ringing).
        rang = (
            interaction.channel is Channel.VOICE
            and self._calls is not None
            and await self._calls.ring_agent(interaction, user)
        )
        if not rang:
            await self._router.accept(interaction_id, user.user_id)
        return await self.work_item(await self._store.interaction(interaction_id))

    async def decline(self, user: User, data: Any) -> None:
        await self._router.decline(require_int(data, "interaction_id"), user.user_id)

    # ------------------------------------------------------------------ working a contact
    async def _held(self, user: User, data: Any) -> Interaction:
        interaction = await self._store.interaction(require_int(data, "interaction_id"))
        if interaction.agent_id != user.user_id:
            raise Forbidden(f"interaction {interaction.interaction_id} is not assigned to you")
        return interaction

    async def reply(self, user: User, data: Any) -> dict[str, Any]:
        interaction_id = require_int(data, "interaction_id")
        held = await self._store.interaction(interaction_id)
        channel = self._reply_channels.get(held.channel)
        if channel is not None:
            # The channel checks its own limits and consent, and stores the reply with them.
            message = await channel.store_reply(held, agent=user, data=data)
        else:
            body = require_text(data, "body", max_bytes=self._max_bytes)
            message = await self._store.add_reply(
                interaction_id, agent=user, body=body, now=self._clock()
            )
        interaction = await self._store.interaction(interaction_id)
        await self._bus.publish(ReplySent(interaction, message))
        return message_json(message)

    async def typing(self, user: User, data: Any) -> None:
        interaction = await self._held(user, data)
        typing = data.get("typing")
        if not isinstance(typing, bool):
            raise InvalidInput("typing must be true or false")
        if interaction.state is InteractionState.ASSIGNED:
            await self._bus.publish(
                Typing(
                    interaction.interaction_id,
                    interaction.conversation_id,
                    user.user_id,
                    by_customer=False,
                    typing=typing,
                    author_name=user.name,
                )
            )

    async def add_note(self, user: User, data: Any) -> dict[str, Any]:
        interaction_id = require_int(data, "interaction_id")
        body = require_text(data, "body", max_bytes=NOTE_MAX_BYTES)
        interaction = await self._store.interaction(interaction_id)
        if interaction.agent_id != user.user_id and user.role not in SUPERVISORS:
            raise Forbidden(f"interaction {interaction_id} is not assigned to you")
        note = await self._store.add_note(interaction_id, author=user, body=body, now=self._clock())
        return note_json(note)

    async def close(self, user: User, data: Any) -> dict[str, Any]:
        interaction = await self._held(user, data)
        await self._router.close(interaction.interaction_id, user.user_id)
        return await self.work_item(await self._store.interaction(interaction.interaction_id))

    async def call_control(self, user: User, data: Any) -> dict[str, Any]:
        """Hold, resume, mute, unmute or hang up the agent's live call."""
        interaction = await self._held(user, data)
        if interaction.channel is not Channel.VOICE or self._calls is None:
            raise InvalidInput(f"interaction {interaction.interaction_id} is not a phone call")
        action = data.get("action")
        if not isinstance(action, str):
            raise InvalidInput("action must be one of: hold, resume, mute, unmute, hangup")
        return await self._calls.control(interaction, action)

    async def end_wrap_up(self, user: User, data: Any) -> None:
        interaction = await self._held(user, data)
        await self._router.end_wrap_up(interaction.interaction_id, user.user_id)

    async def work_item(self, interaction: Interaction) -> dict[str, Any]:
        customer = await self._store.customer_summary(interaction.customer_id)
        messages = await self._store.messages(interaction.conversation_id)
        until = None
        if interaction.state is InteractionState.WRAP_UP and interaction.wrap_up_at is not None:
            wrap_up_s = self._router.queue(interaction.queue).wrap_up_s
            until = interaction.wrap_up_at + timedelta(seconds=wrap_up_s)
        item = work_item_json(interaction, customer, messages, until)
        channel = self._reply_channels.get(interaction.channel)
        if channel is not None:
            item.update(await channel.details(interaction))
        return item
