"""The agent's desk: every use case an agent performs, with its rules and role checks.

The console adapter validates nothing itself: it passes the raw event data here and
translates the result (or the ``HubError``) into an acknowledgement.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from hub.access import Queues, in_queues
from hub.auth import STAFF, SUPERVISORS, require_role
from hub.errors import Conflict, Forbidden, InvalidInput
from hub.events import OfferMade, ReplySent, Typing
from hub.model import Channel, Interaction, InteractionState, Presence, User
from hub.ports import CallControl, Clock, EventBus, ReplyChannel, Router, Store
from hub.reply_targets import ReplyTargets
from hub.representation import (
    agent_state_json,
    message_json,
    note_json,
    offer_json,
    work_item_json,
)
from hub.text import optional_text, require_int, require_text, transfer_target
from hub.wrapup import WrapUpRules

log = logging.getLogger(__name__)

SETTABLE_STATES = {Presence.AVAILABLE.value: Presence.AVAILABLE, Presence.AWAY.value: Presence.AWAY}
NOTE_MAX_BYTES = 16 * 1024
TRANSFER_NOTE_MAX_BYTES = 2 * 1024
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
        wrap_up: WrapUpRules | None = None,
        canned_responses: tuple[Mapping[str, Any], ...] = (),
        reply_targets: ReplyTargets | None = None,
    ) -> None:
        self._reply_targets = reply_targets or ReplyTargets()
        self._calls = calls
        self._wrap_up = wrap_up or WrapUpRules()
        self._canned = [dict(c) for c in canned_responses]
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
                await self._offer_card(
                    offer_json(
                        inter,
                        customer,
                        first.body[:PREVIEW_CHARS] if first else "",
                        expires_at,
                        min(remaining, queue.offer_timeout_s),
                    )
                )
            )
        work = []
        for record in await self._store.interactions(agent_id=user.user_id, active_only=True):
            if record.interaction.state in (InteractionState.ASSIGNED, InteractionState.WRAP_UP):
                work.append(await self.work_item(record.interaction))
        return {
            "agent": {
                "agent_id": user.user_id,
                "name": user.name,
                "role": user.role.value,
                "language": user.language,
            },
            **self.state(user),
            "away_reasons": list(self._away_reasons),
            "canned_responses": self._canned,
            "queues": list(self._queue_names),
            "offers": offers,
            "work": work,
        }

    async def set_state(self, user: User, data: Any) -> dict[str, Any]:
        wanted = data.get("state") if isinstance(data, dict) else None
        if not isinstance(wanted, str) or wanted not in SETTABLE_STATES:
            raise InvalidInput("state must be one of: " + ", ".join(SETTABLE_STATES))
        state = SETTABLE_STATES[wanted]
        reason = data.get("reason")
        if state is Presence.AWAY and reason is not None and reason not in self._away_reasons:
            raise InvalidInput("reason must be one of: " + ", ".join(self._away_reasons))
        if state is Presence.AVAILABLE:
            reason = None
        await self._router.set_state(user.user_id, state, reason)
        log.info("agent_id=%s set state %s (%s)", user.user_id, state.value, reason)
        return self.state(user)

    async def transfer(self, user: User, data: Any) -> None:
        """Hand an assigned interaction to a queue or to a named colleague, with an optional
        note for whoever takes it next (kept first, so their offer can show it)."""
        interaction = await self._held(user, data)
        note = optional_text(data, "note", max_bytes=TRANSFER_NOTE_MAX_BYTES)
        to_queue, to_agent = transfer_target(data)
        if interaction.state is not InteractionState.ASSIGNED:
            raise Conflict(f"interaction {interaction.interaction_id} is not in progress")
        if note is not None:
            await self._store.add_note(
                interaction.interaction_id,
                author=user,
                body=note,
                now=self._clock(),
                kind="transfer",
            )
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
    async def offer(self, e: OfferMade) -> dict[str, Any]:
        """An offer as the agent's card shows it."""
        return await self._offer_card(
            offer_json(e.interaction, e.customer, e.preview, e.expires_at, e.timeout_s)
        )

    async def _offer_card(self, card: dict[str, Any]) -> dict[str, Any]:
        notes = await self._store.interaction_notes(card["interaction_id"], kind="transfer")
        if notes:
            latest = notes[-1]
            card["transfer_note"] = {"author_name": latest.author_name, "body": latest.body}
        return card

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
        if held.channel is Channel.API:
            raise InvalidInput(
                f"interaction {interaction_id} is a task from another system: there is no "
                "customer transport to reply through; add a private note instead"
            )
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

    async def _call_action(
        self, user: User, data: Any, actions: str
    ) -> tuple[CallControl, Interaction, str]:
        """The agent's own phone call, and the ``action`` asked of it (one of ``actions``)."""
        interaction = await self._held(user, data)
        if interaction.channel is not Channel.VOICE or self._calls is None:
            raise InvalidInput(f"interaction {interaction.interaction_id} is not a phone call")
        action = data.get("action")
        if not isinstance(action, str):
            raise InvalidInput(f"action must be one of: {actions}")
        return self._calls, interaction, action

    async def call_control(self, user: User, data: Any) -> dict[str, Any]:
        """Hold, resume, mute, unmute or hang up the agent's live call."""
        calls, interaction, action = await self._call_action(
            user, data, "hold, resume, mute, unmute, hangup"
        )
        return await calls.control(interaction, action)

    async def call_consult(self, user: User, data: Any) -> dict[str, Any]:
        """A warm transfer of the agent's live call: ``start`` a consultation with the
        colleague ``agent_id`` (the customer waits on hold), then ``complete`` it (the call
        is theirs) or ``cancel`` it (back to the customer)."""
        calls, interaction, action = await self._call_action(user, data, "start, complete, cancel")
        colleague = data.get("agent_id")
        if colleague is not None and (
            isinstance(colleague, bool) or not isinstance(colleague, int)
        ):
            raise InvalidInput("agent_id must be an integer")
        return await calls.consult(interaction, user, action, colleague)

    async def call_monitor(self, user: User, data: Any) -> dict[str, Any]:
        """A supervisor ``listen``s to a live call, ``whisper``s to its agent, or ``stop``s."""
        require_role(user, SUPERVISORS)
        interaction_id = require_int(data, "interaction_id")
        mode = data.get("mode")
        if self._calls is None:
            raise InvalidInput("no phone numbers are configured")
        if not isinstance(mode, str):
            raise InvalidInput("mode must be one of: listen, whisper, stop")
        return await self._calls.monitor(interaction_id, user, mode)

    async def live_calls(self, user: User, queues: Queues) -> list[dict[str, Any]]:
        """The calls in progress in the ``queues`` this supervisor oversees (None: all)."""
        require_role(user, SUPERVISORS)
        return await self.live_calls_within(queues)

    async def live_calls_within(self, queues: Queues) -> list[dict[str, Any]]:
        """The calls in progress in ``queues`` (None: all), for signed-in supervisors."""
        calls = [] if self._calls is None else await self._calls.live_calls()
        if queues is None:
            return calls
        kept = []
        for call in calls:
            interaction = await self._store.interaction(call["interaction_id"])
            if in_queues(interaction.queue, queues):
                kept.append(call)
        return kept

    async def save_wrap_up(self, user: User, data: Any) -> dict[str, Any]:
        """Keep the disposition and wrap-up note the agent chose (before or during wrap-up)."""
        interaction = await self._held(user, data)
        outcome = self._wrap_up.outcome(interaction.queue, data)
        saved = await self._store.set_wrap_up(
            interaction.interaction_id,
            agent_id=user.user_id,
            disposition=outcome.disposition,
            note=outcome.note,
            now=self._clock(),
        )
        return self._wrap_up_json(saved)

    async def end_wrap_up(self, user: User, data: Any) -> None:
        """ "Ready": end wrap-up, saving a disposition and note sent with it; refused while the
        queue requires a disposition and none is chosen."""
        interaction = await self._held(user, data)
        if "disposition" in data or "note" in data:
            await self.save_wrap_up(user, data)
            interaction = await self._store.interaction(interaction.interaction_id)
        self._wrap_up.check_ready(interaction.queue, interaction.disposition)
        await self._router.end_wrap_up(interaction.interaction_id, user.user_id)

    def _wrap_up_json(self, interaction: Interaction) -> dict[str, Any]:
        return {
            **self._wrap_up.describe(interaction.queue),
            "disposition": interaction.disposition,
            "note": interaction.wrap_up_note,
        }

    async def work_item(self, interaction: Interaction) -> dict[str, Any]:
        customer = await self._store.customer_summary(interaction.customer_id)
        messages = await self._store.messages(interaction.conversation_id)
        until = None
        if interaction.state is InteractionState.WRAP_UP and interaction.wrap_up_at is not None:
            wrap_up_s = self._router.queue(interaction.queue).wrap_up_s
            until = interaction.wrap_up_at + timedelta(seconds=wrap_up_s)
        whispers = await self._store.interaction_notes(interaction.interaction_id, kind="whisper")
        item = work_item_json(interaction, customer, messages, until, whispers)
        item["wrap_up"] = self._wrap_up_json(interaction)
        item["reply_target_s"] = self._reply_targets.target_s(
            interaction.queue, interaction.channel
        )
        transfer_notes = await self._store.interaction_notes(
            interaction.interaction_id, kind="transfer"
        )
        item["transfer_notes"] = [note_json(n) for n in transfer_notes]
        if interaction.channel is Channel.API:
            # A task has no one to reply to: its private notes are its thread's other half.
            notes = await self._store.interaction_notes(interaction.interaction_id, kind="note")
            item["notes"] = [note_json(n) for n in notes]
        item.update(await self.channel_details(interaction))
        return item

    async def channel_details(self, interaction: Interaction) -> dict[str, Any]:
        """What the interaction's channel knows beyond its messages (an SMS's delivery, a
        call's timings and recording), under the channel's key; {} for the others."""
        channel = self._reply_channels.get(interaction.channel)
        return {} if channel is None else await channel.details(interaction)
