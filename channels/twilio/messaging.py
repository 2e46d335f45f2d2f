"""The SMS channel's transport: Twilio's webhooks in, agents' replies out by the REST API.

In: ``POST /twilio/sms`` (behind the signature gate) is parsed whole, handed to
``Inbound.receive_sms`` (stored once per MessageSid, keywords recorded, the rest routed)
and answered with an empty ``MessagingResponse`` as soon as it is committed, so Twilio never
waits on routing. If the database cannot commit, the error answer (5xx) makes Twilio use
the number's fallback URL.

Out: ``store_reply`` refuses a reply before anything is stored when it is too long or the
customer has opted out, then stores it ``pending``. After the reply is announced
(``ReplySent``) it is handed to Twilio in the background, from the number the customer
wrote to, with a status callback; Twilio's answer (or its refusal, with the reason) is
stored and shown to the agent, and so is every later delivery status.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from aiohttp import web
from twilio.twiml.messaging_response import MessagingResponse

from channels.twilio.client import TwilioApi, TwilioRejected
from channels.twilio.sms import (
    FAILED_STATUSES,
    STATUS_RANK,
    check_reply,
    conversation_json,
    error_text,
    message_state_json,
    parse_inbound,
    parse_status,
    status_callback_url,
    statuses_before,
)
from channels.twilio.tasks import BackgroundTasks
from channels.twilio.webhook import PREFIX, SMS_PATH, SMS_STATUS_PATH, form_of, query_id, twiml
from hub.config import TwilioSettings
from hub.errors import Conflict, HubError, InvalidInput, NotFound
from hub.events import MessageDetailsChanged, OptOutChanged, ReplySent, SurveyDue
from hub.inbound import Inbound
from hub.model import Channel, Identity, IdentityKind, Interaction, Message, User
from hub.phone import sms_thread_key
from hub.ports import Clock, EventBus, InboundContact, SmsDetails, SmsMessageState, SmsStore
from hub.satisfaction import SMS_SURVEY_TEXT, TEXT_RATING_WINDOW, bare_score
from hub.surveys import Surveys
from hub.web import public

log = logging.getLogger(__name__)

OPTED_OUT_CODE = "21610"  # Twilio: the recipient texted STOP
UNSENT_AFTER_S = 120  # a reply still pending this long after a restart was never confirmed


class SmsChannel:
    def __init__(
        self,
        *,
        settings: TwilioSettings,
        inbound: Inbound,
        sms_store: SmsStore,
        bus: EventBus,
        clock: Clock,
        api: TwilioApi,
        surveys: Surveys | None = None,
    ) -> None:
        assert settings.public_url is not None
        self._settings = settings
        self._public_url = settings.public_url
        self._inbound = inbound
        self._sms = sms_store
        self._bus = bus
        self._clock = clock
        self._api = api
        self._sending = BackgroundTasks()
        self._surveys = surveys
        bus.subscribe(ReplySent, self._on_reply)
        bus.subscribe(SurveyDue, self._on_survey_due)

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        now = self._clock()
        await self._sms.fail_unsent(older_than=now - timedelta(seconds=UNSENT_AFTER_S), now=now)

    async def stop(self) -> None:
        """Let replies being handed to Twilio finish (briefly), then close the client."""
        await self._sending.stop()
        await self._api.close()

    async def idle(self) -> None:
        """Wait until no reply is being handed to Twilio (for tests and shutdown)."""
        await self._sending.idle()

    # ------------------------------------------------------------------ webhooks
    def add_routes(self, twilio: web.Application) -> None:
        """Routes on the signature-checked ``/twilio`` sub-application."""

        @public
        async def sms(request: web.Request) -> web.StreamResponse:
            return await self.handle_sms(request)

        @public
        async def sms_status(request: web.Request) -> web.StreamResponse:
            return await self.handle_status(request)

        twilio.router.add_post(SMS_PATH.removeprefix(PREFIX), sms)
        twilio.router.add_post(SMS_STATUS_PATH.removeprefix(PREFIX), sms_status)

    async def handle_sms(self, request: web.Request) -> web.StreamResponse:
        text = parse_inbound(await form_of(request))
        number = self._settings.number(text.hub_number, "sms")
        if number is None:
            raise NotFound(f"{text.hub_number} is not configured for SMS in twilio.numbers")
        contact = InboundContact(
            channel=Channel.SMS,
            identity=Identity(IdentityKind.PHONE, text.customer_number),
            thread_key=sms_thread_key(text.hub_number, text.customer_number),
            body=text.body,
            attributes={"address": text.hub_number},
            sms=SmsDetails(
                hub_number=text.hub_number,
                customer_number=text.customer_number,
                message_sid=text.message_sid,
                media=text.media,
                keyword=text.keyword.value if text.keyword else None,
            ),
        )
        if await self._took_rating(contact, text.keyword is None and not text.media):
            return twiml(MessagingResponse())
        recorded = await self._inbound.receive_sms(contact, queue=number.queue)
        if recorded.message is not None and recorded.interaction is not None and text.media:
            state = SmsMessageState(
                recorded.message.message_id, recorded.message.direction, None, media=text.media
            )
            await self._announce(recorded.interaction, state)
        return twiml(MessagingResponse())

    async def handle_status(self, request: web.Request) -> web.StreamResponse:
        report = parse_status(await form_of(request))
        message_id = query_id(request, "message_id") if "message_id" in request.query else None
        await self._record_status(
            message_id=message_id,
            message_sid=report.message_sid,
            status=report.status,
            error_code=report.error_code,
            error_message=error_text(report.error_code)
            if report.status in FAILED_STATUSES
            else None,
        )
        return web.Response(status=204)

    # ------------------------------------------------------------------ satisfaction survey
    async def _on_survey_due(self, e: SurveyDue) -> None:
        """Text "How did we do? Reply 1-5" from the number the customer wrote to, unless
        they have opted out; stored first, then handed to Twilio like a reply."""
        if e.interaction.channel is not Channel.SMS:
            return
        asked = await self._sms.add_sms_survey(
            e.interaction.interaction_id, body=SMS_SURVEY_TEXT, now=self._clock()
        )
        if asked is None:
            log.info(
                "interaction_id=%s no survey texted: the customer opted out",
                e.interaction.interaction_id,
            )
            return
        message, _ = asked
        log.info(
            "interaction_id=%s survey texted as message %s",
            e.interaction.interaction_id,
            message.message_id,
        )
        self._sending.spawn(self._send(e.interaction, message))

    async def _took_rating(self, contact: InboundContact, plain: bool) -> bool:
        """A bare 1-5 answering a survey texted in the last 24 h is that rating (stored on
        the rated interaction, never routed); True when it was (or is a retried webhook)."""
        score = bare_score(contact.body) if plain else None
        if self._surveys is None or score is None or contact.sms is None:
            return False
        if await self._sms.sms_seen(contact.sms.message_sid or ""):
            return False  # the inbound path answers a retry
        now = self._clock()
        kept = await self._sms.record_sms_rating(contact, since=now - TEXT_RATING_WINDOW, now=now)
        if kept is None:
            return False
        message, interaction = kept
        try:
            await self._surveys.rate(interaction, score=score, comment=None, channel=Channel.SMS)
        except Conflict as exc:
            log.info(
                "interaction_id=%s texted rating %s not taken: %s",
                interaction.interaction_id,
                message.message_id,
                exc.message,
            )
        return True

    # ------------------------------------------------------------------ replies (the desk)
    async def store_reply(self, interaction: Interaction, *, agent: User, data: Any) -> Message:
        if not isinstance(data, dict):
            raise InvalidInput("event data must be an object")
        body = check_reply(data.get("body"))
        conversation = await self._sms.sms_conversation(interaction.conversation_id)
        if conversation.opted_out:
            raise Conflict(
                f"{conversation.customer_number} has opted out of text messages (texted STOP); "
                "nothing can be sent until they text START"
            )
        message, _ = await self._sms.add_sms_reply(
            interaction.interaction_id, agent=agent, body=body, now=self._clock()
        )
        log.info(
            "interaction_id=%s SMS reply %s stored, to be sent",
            interaction.interaction_id,
            message.message_id,
        )
        return message

    async def details(self, interaction: Interaction) -> dict[str, Any]:
        try:
            conversation = await self._sms.sms_conversation(interaction.conversation_id)
        except NotFound:
            return {}
        return {"sms": conversation_json(conversation)}

    # ------------------------------------------------------------------ sending
    async def _on_reply(self, e: ReplySent) -> None:
        if e.interaction.channel is not Channel.SMS:
            return
        self._sending.spawn(self._send(e.interaction, e.message))

    async def _send(self, interaction: Interaction, message: Message) -> None:
        try:
            await self._hand_to_twilio(interaction, message)
        except Exception:
            # Stays pending; a restart marks it failed if it never reached Twilio.
            log.exception(
                "interaction_id=%s SMS reply %s: recording its sending failed",
                interaction.interaction_id,
                message.message_id,
            )

    async def _hand_to_twilio(self, interaction: Interaction, message: Message) -> None:
        conversation = await self._sms.sms_conversation(interaction.conversation_id)
        hub_number, customer_number = conversation.hub_number, conversation.customer_number
        try:
            sent = await self._api.send_sms(
                from_number=hub_number,
                to_number=customer_number,
                body=message.body,
                status_callback=status_callback_url(self._public_url, message.message_id),
            )
        except HubError as exc:
            code = exc.twilio_code if isinstance(exc, TwilioRejected) else None
            log.warning(
                "interaction_id=%s SMS reply %s not sent: %s",
                interaction.interaction_id,
                message.message_id,
                exc.message,
            )
            await self._record_status(
                message_id=message.message_id,
                message_sid=None,
                status="failed",
                error_code=code,
                error_message=error_text(code, exc.message) if code else exc.message,
            )
            if code == OPTED_OUT_CODE:
                await self._opted_out_at_twilio(interaction, hub_number, customer_number)
            return
        log.info(
            "interaction_id=%s SMS reply %s accepted by Twilio as %s",
            interaction.interaction_id,
            message.message_id,
            sent.message_sid,
        )
        await self._record_status(
            message_id=message.message_id, message_sid=sent.message_sid, status=sent.status
        )

    async def _record_status(
        self,
        *,
        message_id: int | None,
        message_sid: str | None,
        status: str,
        error_code: str | None = None,
        error_message: str | None = None,
    ) -> None:
        if status not in STATUS_RANK:
            status = "queued"
        changed = await self._sms.sms_status(
            message_id=message_id,
            message_sid=message_sid,
            status=status,
            replaces=statuses_before(status),
            error_code=error_code,
            error_message=error_message,
            now=self._clock(),
        )
        if changed is None:
            return
        interaction, state = changed
        if interaction is not None:
            log.info(
                "interaction_id=%s SMS %s is %s%s",
                interaction.interaction_id,
                state.message_id,
                status,
                f" (error {error_code})" if error_code else "",
            )
            await self._announce(interaction, state)

    async def _announce(self, interaction: Interaction, state: SmsMessageState) -> None:
        await self._bus.publish(
            MessageDetailsChanged(interaction, state.message_id, {"sms": message_state_json(state)})
        )

    async def _opted_out_at_twilio(
        self, interaction: Interaction, hub_number: str, customer_number: str
    ) -> None:
        """Twilio refused because the customer texted STOP (perhaps before we knew them):
        remember it, so the console says so before the next attempt."""
        await self._sms.set_opt_out(
            customer_number,
            opted_out=True,
            keyword=f"twilio {OPTED_OUT_CODE}",
            hub_number=hub_number,
            now=self._clock(),
        )
        await self._bus.publish(
            OptOutChanged(interaction, interaction.customer_id, Channel.SMS, customer_number, True)
        )
