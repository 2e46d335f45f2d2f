"""An agent's email reply: checked, rendered, put in the durable outbox, then announced."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Sequence
from email import policy

from channels.email.render import (
    OutgoingFile,
    make_message_id,
    quote,
    references_for,
    render_reply,
    reply_subject,
    thread_address,
)
from hub.errors import Forbidden, InvalidInput
from hub.events import ReplySent
from hub.model import Channel, Direction, Message, User
from hub.ports import Clock, EventBus, MailAttachment, MailDetails, MailMessage, MailStore, Store

log = logging.getLogger(__name__)

BODY_MAX_BYTES = 256 * 1024
SMTP_POLICY = policy.SMTP


def answered(messages: Sequence[MailMessage]) -> MailMessage | None:
    """The customer's message a reply answers: the latest inbound one that is not automated."""
    for item in reversed(messages):
        if item.message.direction is Direction.INBOUND and item.details.automated is None:
            if item.details.reply_address and item.details.mailbox:
                return item
    return None


class MailReplies:
    def __init__(
        self,
        *,
        store: Store,
        mail_store: MailStore,
        bus: EventBus,
        clock: Clock,
        domain: str,
        max_reply_bytes: int,
        queued: Callable[[], None],
        token: Callable[[], str] = lambda: secrets.token_hex(16),
    ) -> None:
        self._store = store
        self._mail = mail_store
        self._bus = bus
        self._clock = clock
        self._domain = domain
        self._max_bytes = max_reply_bytes
        self._queued = queued
        self._token = token

    async def reply(
        self,
        user: User,
        interaction_id: int,
        *,
        body: str,
        subject: str | None,
        attachments: Sequence[OutgoingFile],
    ) -> Message:
        interaction = await self._store.interaction(interaction_id)
        if interaction.channel is not Channel.EMAIL:
            raise InvalidInput(f"interaction {interaction_id} is not an email")
        if interaction.agent_id != user.user_id:
            raise Forbidden(f"interaction {interaction_id} is not assigned to you")
        if not body.strip():
            raise InvalidInput("body must not be empty")
        if len(body.encode("utf-8")) > BODY_MAX_BYTES:
            raise InvalidInput(f"body is longer than {BODY_MAX_BYTES} bytes")
        total = sum(len(a.data) for a in attachments)
        if total > self._max_bytes:
            raise InvalidInput(f"attachments total {total} bytes; the limit is {self._max_bytes}")
        thread = await self._mail.mail_thread(interaction.conversation_id)
        last = answered(thread.messages)
        if last is None:
            raise InvalidInput("this thread has no customer message with an address to answer")
        when = self._clock()
        message_id = make_message_id(self._token(), self._domain)
        references = references_for(last.details.header_message_id, last.details.references)
        full_subject = reply_subject(
            subject or last.details.subject or thread.subject, thread.thread_id
        )
        author = last.details.from_name or last.details.from_address
        text = f"{body.rstrip()}\n\n{quote(last.message.body, author, last.message.created_at)}\n"
        try:
            rendered = render_reply(
                mailbox=last.details.mailbox,
                from_name=user.name,
                to_address=last.details.reply_address,
                to_name=last.details.from_name,
                subject=full_subject,
                body=text,
                message_id=message_id,
                in_reply_to=last.details.header_message_id,
                references=references,
                thread_id=thread.thread_id,
                date=when,
                attachments=attachments,
            )
            payload = rendered.as_bytes(policy=SMTP_POLICY)
        except (ValueError, TypeError) as exc:
            raise InvalidInput(f"the reply cannot be written as an email: {exc}") from None
        details = MailDetails(
            header_message_id=message_id,
            subject=full_subject,
            from_address=last.details.mailbox,
            mailbox=last.details.mailbox,
            reply_address=thread_address(last.details.mailbox, thread.thread_id),
            from_name=user.name,
            in_reply_to=(last.details.header_message_id,),
            references=references,
            to_addresses=(last.details.reply_address,),
            attachments=tuple(
                MailAttachment(a.filename, a.content_type, len(a.data), a.data) for a in attachments
            ),
            raw=payload,
            thread_id=thread.thread_id,
        )
        message = await self._mail.enqueue_mail(
            interaction_id,
            agent=user,
            body=body.rstrip(),
            details=details,
            payload=payload,
            recipients=(last.details.reply_address,),
            now=when,
        )
        log.info(
            "interaction_id=%s email reply %s queued by agent_id=%s",
            interaction_id,
            message_id,
            user.user_id,
        )
        await self._bus.publish(ReplySent(await self._store.interaction(interaction_id), message))
        self._queued()
        return message
