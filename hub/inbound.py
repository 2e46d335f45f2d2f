"""The customer side: one path for every inbound contact (persist, then announce, then route)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace

from hub.customers import Profile
from hub.errors import Conflict
from hub.events import (
    CustomerChanged,
    InteractionCreated,
    MessageDetailsChanged,
    MessageReceived,
    OptOutChanged,
    Typing,
)
from hub.lifecycle import ACTIVE_STATES
from hub.model import Channel, Identity, Interaction, InteractionState, Message
from hub.ports import (
    Clock,
    EventBus,
    InboundContact,
    InboundRecorded,
    MailStore,
    Router,
    SmsStore,
    Store,
    ThreadMatch,
)
from hub.representation import receipt_json
from hub.self_service import SelfService

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ThreadState:
    """What a returning customer sees: their open conversation, if any."""

    conversation_id: int | None
    interaction: Interaction | None
    messages: tuple[Message, ...]
    agent_name: str | None
    position: int | None


@dataclass(frozen=True, slots=True)
class MailRecorded:
    """Where an inbound email went: the stored message, and the interaction it is part of
    (``recorded`` is None for an auto-reply or a bounce, which is kept but never routed, and
    for a ``duplicate``: a delivery retried after our 250 was lost, stored the first time)."""

    message: Message
    thread_id: int | None
    recorded: InboundRecorded | None
    duplicate: bool = False


@dataclass(frozen=True, slots=True)
class SmsRecorded:
    """Where an inbound text went. ``message`` is None for a retried delivery (already
    stored); ``routed`` is False for a STOP/START/HELP keyword, which is only recorded."""

    message: Message | None
    interaction: Interaction | None
    routed: bool


SMS_OPT_OUT = {"stop": True, "start": False}  # keyword -> opted out after it (help: unchanged)


def choose_thread(
    matches: Sequence[ThreadMatch], sender_customer_id: int | None, *, automated: bool
) -> ThreadMatch | None:
    """The email thread an inbound message joins, or None for a new one. Pure.

    Never by subject alone. A reply id (In-Reply-To, References) joins only a thread of the
    sender's own customer; our token (reply address or ``[#n]`` tag) joins whoever sends it
    (a colleague forwarding into the thread). Automated mail (bounces, auto-replies) joins
    by id whoever sends it, since it is only recorded, never routed. ``matches`` come
    strongest first: ids before tokens, each in the caller's order.
    """
    for match in matches:
        if match.via == "message_id" and (automated or match.customer_id == sender_customer_id):
            return match
    for match in matches:
        if match.via == "token":
            return match
    return None


class Inbound:
    def __init__(
        self,
        *,
        store: Store,
        bus: EventBus,
        router: Router,
        clock: Clock,
        queue_for: Mapping[Channel, str],
        mail_store: MailStore | None = None,
        sms_store: SmsStore | None = None,
        self_service: SelfService | None = None,
        profile: Callable[[int], Awaitable[Profile]] | None = None,
    ) -> None:
        self._store = store
        self._bus = bus
        self._router = router
        self._clock = clock
        self._queue_for = dict(queue_for)
        self._mail = mail_store
        self._sms = sms_store
        self._self_service = self_service
        self._profile = profile

    async def _customer_changed(
        self, customer_id: int, change: str, merged_id: int | None = None
    ) -> None:
        """Announce (after the commit) a customer the contact made or changed: the same
        ``CustomerChanged`` the customers API announces, so webhooks have one path."""
        if self._profile is None:
            return
        profile = await self._profile(customer_id)
        if change == "merged":
            merge = {"survivor_id": customer_id, "merged_id": merged_id}
            await self._bus.publish(CustomerChanged("merged", profile, change, {"merge": merge}))
            return
        kind = "created" if change == "created" else "updated"
        await self._bus.publish(CustomerChanged(kind, profile, change))

    async def receive_mail(
        self,
        contact: InboundContact,
        *,
        queue: str,
        refs: tuple[str, ...],
        tokens: tuple[int, ...],
        bounced: tuple[str, ...] = (),
        bounce_reason: str = "",
    ) -> MailRecorded:
        """An email: find its thread, then store it and route it like any contact (or, for
        an auto-reply or a bounce, store it on its thread without routing it).

        A sending server that lost our 250 sends the mail again: the same Message-ID from
        the same sender address with the same subject and text is that retry, and is not
        stored twice. Anything else that reuses an id (another sender, other content) is a
        mail of its own.
        """
        assert self._mail is not None and contact.mail is not None
        mail = contact.mail
        earlier = await self._mail.received_mail(
            mail.header_message_id, mail.from_address, subject=mail.subject, body=contact.body
        )
        if earlier is not None:
            log.info(
                "interaction_id=%s email %s delivered again (a retry); kept once as message %s",
                earlier.interaction_id,
                mail.header_message_id,
                earlier.message_id,
            )
            return MailRecorded(earlier, None, None, duplicate=True)
        automated = mail.automated is not None
        sender = await self._mail.customer_by_identity(contact.identity)
        matches = await self._mail.thread_matches(refs + bounced, tokens)
        chosen = choose_thread(matches, sender, automated=automated)
        for match in matches:
            if match.via == "message_id" and match is not chosen and match.customer_id != sender:
                log.info(
                    "email %s refers to thread %s of another customer; not joined by reply id",
                    mail.header_message_id,
                    match.thread_id,
                )
        if chosen is not None:
            if chosen.customer_id != sender and not automated:
                log.warning(
                    "email %s from another sender forwarded into thread %s (customer %s) by "
                    "its token",
                    mail.header_message_id,
                    chosen.thread_id,
                    chosen.customer_id,
                )
            contact = replace(
                contact,
                mail=replace(mail, thread_id=chosen.thread_id),
                customer_id=chosen.customer_id,
            )
        if mail.automated == "bounce" and bounced:
            failed = await self._mail.mark_bounced(bounced, reason=bounce_reason)
            log.info("bounce %s marks %d sent message(s) failed", mail.header_message_id, failed)
        if automated:
            kept = await self._mail.record_unrouted(contact, now=self._clock())
            message, interaction = kept.message, kept.interaction
            if kept.customer_change is not None:
                await self._customer_changed(kept.customer_id, kept.customer_change)
            log.info(
                "email %s (%s) recorded on conversation %s, not routed",
                mail.header_message_id,
                mail.automated,
                message.conversation_id,
            )
            if interaction is not None:
                await self._bus.publish(MessageReceived(interaction, message))
            return MailRecorded(message, chosen.thread_id if chosen else None, None)
        recorded = await self.receive(contact, queue_name=queue)
        return MailRecorded(recorded.message, chosen.thread_id if chosen else None, recorded)

    async def receive_sms(self, contact: InboundContact, *, queue: str) -> SmsRecorded:
        """A text message, stored once per Twilio id (Twilio retries). A STOP/START/HELP
        keyword changes the customer's opt-out and is recorded on their conversation without
        becoming work; anything else is routed like every contact."""
        assert self._sms is not None and contact.sms is not None
        sms = contact.sms
        sid = sms.message_sid or ""
        if await self._sms.sms_seen(sid):
            log.info("SMS %s was already stored; a retried delivery", sid)
            return SmsRecorded(None, None, routed=False)
        if sms.keyword is not None:
            opted_out = SMS_OPT_OUT.get(sms.keyword)
            kept = await self._sms.record_keyword(contact, opted_out=opted_out, now=self._clock())
            if kept is None:
                return SmsRecorded(None, None, routed=False)
            message, interaction = kept.message, kept.interaction
            if kept.customer_change is not None:
                await self._customer_changed(kept.customer_id, kept.customer_change)
            log.info(
                "SMS %s is the keyword %s; recorded on conversation %s, not routed",
                sid,
                sms.keyword,
                message.conversation_id,
            )
            if interaction is not None:
                await self._bus.publish(MessageReceived(interaction, message))
            if opted_out is not None:
                conversation = await self._store.conversation(message.conversation_id)
                await self._bus.publish(
                    OptOutChanged(
                        interaction,
                        conversation.customer_id,
                        Channel.SMS,
                        sms.customer_number,
                        opted_out,
                    )
                )
            return SmsRecorded(message, interaction, routed=False)
        try:
            recorded = await self.receive(contact, queue_name=queue)
        except Conflict:
            # The same id stored meanwhile by a concurrent delivery of the same webhook.
            if await self._sms.sms_seen(sid):
                return SmsRecorded(None, None, routed=False)
            raise
        return SmsRecorded(recorded.message, recorded.interaction, routed=True)

    async def receive(
        self, contact: InboundContact, *, queue_name: str | None = None
    ) -> InboundRecorded:
        """Store an inbound message (opening a conversation and interaction when needed)."""
        queue = self._router.queue(queue_name or self._queue_for[contact.channel])
        recorded = await self._store.record_inbound(
            contact, queue=queue.name, priority=queue.priority, now=self._clock()
        )
        interaction = recorded.interaction
        if recorded.duplicate:
            log.info(
                "interaction_id=%s asked for again with its external id; nothing new stored",
                interaction.interaction_id,
            )
            return recorded
        if recorded.customer_change is not None:
            await self._customer_changed(interaction.customer_id, recorded.customer_change)
        if recorded.interaction_created:
            log.info(
                "interaction_id=%s created on %s in queue %s",
                interaction.interaction_id,
                contact.channel.value,
                queue.name,
            )
            # A web chat may first be offered knowledge base articles (hub.self_service):
            # routed only once the visitor needs an agent.
            held = self._self_service is not None and await self._self_service.hold(
                interaction, recorded.message
            )
            if not held:
                await self._bus.publish(InteractionCreated(interaction))
        elif self._self_service is not None:
            await self._self_service.release(interaction.interaction_id)  # wrote again
        await self._bus.publish(MessageReceived(interaction, recorded.message))
        return recorded

    async def identify(self, identity: Identity, *, name: str | None, email: str | None) -> int:
        """The customer a visitor's pre-chat form leads to (announced if made or changed)."""
        identified = await self._store.identify(identity, name=name, email=email, now=self._clock())
        if identified.change is not None:
            await self._customer_changed(
                identified.customer_id, identified.change, identified.merged_id
            )
        return identified.customer_id

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
        if self._self_service is not None and await self._self_service.leave(
            interaction.interaction_id
        ):
            return True  # left while reading suggestions: never queued
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

    async def replies_seen(
        self, channel: Channel, thread_key: str, message_ids: Collection[int], *, read: bool
    ) -> list[Message]:
        """The customer's side received (or, with ``read``, showed) these agent replies:
        stored first, then each change is told to the agent holding the interaction. Refused
        whole for a message that is not a reply in this customer's conversations; a receipt
        given twice changes nothing and announces nothing."""
        changed = await self._store.mark_replies_seen(
            channel, thread_key, message_ids, read=read, now=self._clock()
        )
        interactions: dict[int, Interaction] = {}
        for message in changed:
            if message.interaction_id is None:
                continue
            if message.interaction_id not in interactions:
                interactions[message.interaction_id] = await self._store.interaction(
                    message.interaction_id
                )
            await self._bus.publish(
                MessageDetailsChanged(
                    interactions[message.interaction_id],
                    message.message_id,
                    {"chat": receipt_json(message)},
                )
            )
        return changed

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
