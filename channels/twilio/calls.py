"""The voice channel's transport: Twilio's call webhooks in, TwiML and REST calls out.

A call goes through stages, stored on its ``voice_calls`` row and changed only by
conditional updates (so a retried webhook changes nothing twice)::

    ivr ──choice──▶ queued ──agent accepts──▶ ringing ──agent answers──▶ connected ──▶ ended
     │                │  ▲                       │
     │                │  └──busy / no answer─────┘      (callback / callback_ringing: the
     │                ├──press 1──▶ callback              same, with the customer called back)
     │                └──hangs up──▶ abandoned
     └──out of hours──▶ voicemail ──recording──▶ voicemail_left

``POST /twilio/voice`` answers with the menu (``<Gather>`` for keys and speech) or, out of the
number's hours, a message and ``<Record>``. A final choice creates the interaction through
``Inbound`` (the one path of every contact, ``ivr``/``language``/``address`` attributes for
the rules) and puts the caller in ``<Enqueue>``, whose wait URL says the position and estimated
wait from our routing engine, plays hold music and offers a callback. When the agent accepts
the offer, the hub calls the agent's phone into a conference named for the interaction; only
when the agent answers is the offer accepted and the caller moved into the conference. An
agent leg that is busy or rings out is reported to the engine (``OfferUnreachable``) and the
caller keeps waiting at their place.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import urlencode

from aiohttp import web
from multidict import MultiDict
from twilio.twiml.voice_response import VoiceResponse

from channels.twilio.call_survey import CallSurveys
from channels.twilio.client import TwilioApi
from channels.twilio.conference import (
    NO_EXTRA_LEGS,
    PARKED,
    ParticipantRouter,
    Participants,
    customer_leg,
)
from channels.twilio.device import Devices
from channels.twilio.tasks import BackgroundTasks
from channels.twilio.voice import (
    FINAL_STATUSES,
    UNREACHABLE,
    call_sid_of,
    call_thread_key,
    check_path,
    choose,
    join_path,
    menu_at,
    menu_text,
    parse_conference,
    parse_incoming,
    parse_recording,
    parse_status,
    position_text,
)
from channels.twilio.voice import seconds_between as _seconds
from channels.twilio.webhook import (
    VOICE_PATH,
    VOICE_STATUS_PATH,
    Handler,
    add_webhooks,
    form_of,
    query_id,
    twiml,
)
from hub.config import Settings, TwilioNumberSettings
from hub.errors import Conflict, HubError, InvalidInput, NotFound
from hub.events import (
    InteractionRequeued,
    MaxWaitPassed,
    OfferWithdrawn,
    QueuePositionChanged,
    WrapUpStarted,
)
from hub.hours import Schedule
from hub.inbound import Inbound
from hub.model import Channel, Identity, IdentityKind, Interaction, Message, User
from hub.ports import Clock, EventBus, InboundContact, Store, VoiceCall, VoiceStore
from hub.surveys import Surveys
from routing.events import Event, OfferUnreachable

log = logging.getLogger(__name__)

MENU_PATH = VOICE_PATH + "/menu"  # a menu answer (<Gather> action), or no answer
WAIT_PATH = VOICE_PATH + "/wait"  # <Enqueue> wait URL: announcements, music, callback offer
WAITED_PATH = VOICE_PATH + "/waited"  # <Enqueue> action: the wait ended (QueueResult)
CALLBACK_PATH = VOICE_PATH + "/callback"  # the key pressed on the callback offer
VOICEMAIL_PATH = VOICE_PATH + "/voicemail"  # <Record> action: the message is over
RECORDING_PATH = VOICE_PATH + "/recording"  # recording status (voicemail, recorded call)
AGENT_PATH = VOICE_PATH + "/agent"  # the agent leg's call status
CONFERENCE_PATH = VOICE_PATH + "/conference"  # conference and participant events

WAITING = ("queued", "callback")
RINGING = {"queued": "ringing", "callback": "callback_ringing", "transfer": "transfer_ringing"}
BACK = {v: k for k, v in RINGING.items()}


class CallRouter(ParticipantRouter, Protocol):
    """What the voice channel asks of the routing runner."""

    async def submit(self, event: Event) -> None: ...
    async def accept(self, interaction_id: int, agent_id: int) -> None: ...
    async def close(self, interaction_id: int, agent_id: int) -> None: ...
    async def customer_left(self, interaction_id: int) -> None: ...
    def offers_for(self, agent_id: int) -> list[tuple[int, datetime]]: ...
    def position(self, interaction_id: int) -> int | None: ...


def conference_name(interaction_id: int) -> str:
    return f"interaction-{interaction_id}"


class VoiceChannel:
    def __init__(
        self,
        *,
        settings: Settings,
        inbound: Inbound,
        store: Store,
        voice_store: VoiceStore,
        router: CallRouter,
        bus: EventBus,
        clock: Clock,
        api: TwilioApi,
        schedules: Mapping[str, Schedule],
        devices: Devices,
        surveys: Surveys | None = None,
    ) -> None:
        assert settings.twilio.public_url is not None
        self._devices = devices
        self._settings = settings
        self._tw = settings.twilio
        self._public_url = settings.twilio.public_url
        self._inbound = inbound
        self._store = store
        self._calls = voice_store
        self._router = router
        self._clock = clock
        self._api = api
        self._schedules = dict(schedules)
        self._estimates: dict[int, float | None] = {}
        self._tasks = BackgroundTasks()
        self._participants = Participants(
            settings=settings,
            store=store,
            voice_store=voice_store,
            router=router,
            api=api,
            bus=bus,
            clock=clock,
            url=self._url,
            spawn=self._spawn,
        )
        self._survey = (
            None
            if surveys is None
            else CallSurveys(
                surveys=surveys,
                store=store,
                voice_store=voice_store,
                url=self._url,
                say=self._say,
                end_call=lambda call: self._end_call(call, by="agent"),
            )
        )
        bus.subscribe(QueuePositionChanged, self._on_position)
        bus.subscribe(OfferWithdrawn, self._on_withdrawn)
        bus.subscribe(InteractionRequeued, self._on_requeued)
        bus.subscribe(WrapUpStarted, self._on_wrap_up)
        bus.subscribe(MaxWaitPassed, self._on_max_wait)

    async def stop(self) -> None:
        await self._tasks.stop()
        await self._api.close()

    async def idle(self) -> None:
        """Wait until no REST request started by an event is in flight (for tests)."""
        await self._tasks.idle()

    # ------------------------------------------------------------------ helpers
    def _url(self, route: str, **query: object) -> str:
        url = self._public_url + route
        return f"{url}?{urlencode(query)}" if query else url

    def _say(self, node: Any, text: str) -> None:
        if text.strip():
            node.say(text, voice=self._tw.ivr.voice, language=self._tw.ivr.language)

    def _number(self, e164: str) -> TwilioNumberSettings:
        number = self._tw.number(e164, "voice")
        if number is None:
            raise NotFound(f"{e164} is not configured for voice in twilio.numbers")
        return number

    def _open(self, number: TwilioNumberSettings) -> bool:
        if number.business_hours is None:
            return True
        return self._schedules[number.business_hours].is_open(self._clock())

    async def _known(self, form: MultiDict[str]) -> VoiceCall:
        call = await self._calls.voice_call(call_sid_of(form))
        if call is None:
            raise NotFound("no such call")
        return call

    def _spawn(self, coro: Any) -> None:
        self._tasks.spawn(coro)

    # ------------------------------------------------------------------ routes
    def add_routes(self, twilio: web.Application) -> None:
        """Routes on the signature-checked ``/twilio`` sub-application."""
        routes: dict[str, Handler] = {
            VOICE_PATH: self.handle_incoming,
            MENU_PATH: self.handle_menu,
            WAIT_PATH: self.handle_wait,
            WAITED_PATH: self.handle_waited,
            CALLBACK_PATH: self.handle_callback,
            VOICEMAIL_PATH: self.handle_voicemail_done,
            RECORDING_PATH: self.handle_recording,
            VOICE_STATUS_PATH: self.handle_status,
            AGENT_PATH: self.handle_agent_status,
            CONFERENCE_PATH: self.handle_conference,
        }
        if self._survey is not None:
            routes.update(self._survey.routes())
        add_webhooks(twilio, routes)
        self._participants.add_routes(twilio)

    # ------------------------------------------------------------------ answering
    async def handle_incoming(self, request: web.Request) -> web.StreamResponse:
        incoming = parse_incoming(await form_of(request))
        number = self._number(incoming.hub_number)
        call, created = await self._calls.start_call(
            incoming.call_sid,
            hub_number=incoming.hub_number,
            customer_number=incoming.customer_number,
            stage="ivr",
            now=self._clock(),
        )
        if not created:
            log.info("call %s: incoming call delivered again; answered as before", call.call_sid)
            return twiml(await self._resume(call))
        if not self._open(number):
            await self._calls.update_call(call.call_sid, stages=["ivr"], stage="voicemail")
            log.info("call %s to %s out of hours: voicemail", call.call_sid, number.number)
            return twiml(self._voicemail(self._tw.voice.out_of_hours))
        if self._tw.ivr.menu is None:
            return twiml(await self._enqueue(call, number.queue, path="", attributes={}))
        return twiml(self._menu("", attempt=0, greet=True))

    async def _resume(self, call: VoiceCall) -> VoiceResponse:
        """The TwiML for a call already known (a retried webhook, a stale menu answer)."""
        if call.stage == "ivr":
            return self._menu(call.ivr_path, attempt=0, greet=True)
        if call.stage == "voicemail":
            return self._voicemail(self._tw.voice.out_of_hours)
        if call.stage in WAITING and call.interaction_id is not None:
            return self._enqueue_twiml(call.interaction_id)
        return VoiceResponse()

    def _voicemail(self, message: str) -> VoiceResponse:
        r = VoiceResponse()
        self._say(r, message)
        r.record(
            action=self._url(VOICEMAIL_PATH),
            method="POST",
            max_length=self._tw.voice.voicemail_max_s,
            play_beep=True,
            recording_status_callback=self._url(RECORDING_PATH, kind="voicemail"),
            recording_status_callback_method="POST",
        )
        return r

    def _menu(self, path: str, *, attempt: int, greet: bool, apology: str = "") -> VoiceResponse:
        ivr = self._tw.ivr
        assert ivr.menu is not None
        menu = menu_at(ivr.menu, path)
        r = VoiceResponse()
        self._say(r, apology)
        if greet:
            self._say(r, ivr.greeting)
        words = [w for c in menu.choices for w in c.words]
        gather = r.gather(
            input="dtmf speech",
            num_digits=1,
            timeout=ivr.timeout_s,
            action=self._url(MENU_PATH, path=path, attempt=attempt),
            method="POST",
            language=ivr.language,
            hints=", ".join(words) if words else None,
        )
        self._say(gather, menu_text(menu))
        # <Gather> falls through when the caller says nothing.
        r.redirect(self._url(MENU_PATH, path=path, attempt=attempt, silent=1), method="POST")
        return r

    async def handle_menu(self, request: web.Request) -> web.StreamResponse:
        form = await form_of(request)
        call = await self._known(form)
        path = check_path(request.query.get("path", ""))
        raw_attempt = request.query.get("attempt", "0")
        if not raw_attempt.isdigit():
            raise InvalidInput("attempt must be a number")
        attempt = int(raw_attempt)
        if call.stage != "ivr" or self._tw.ivr.menu is None:
            return twiml(await self._resume(call))
        menu = menu_at(self._tw.ivr.menu, path)
        digits = None if request.query.get("silent") else form.get("Digits")
        speech = None if request.query.get("silent") else form.get("SpeechResult")
        choice = choose(menu, digits, speech)
        if choice is None:
            silent = not (digits or speech)
            log.info(
                "call %s: %s at menu %r (attempt %d)",
                call.call_sid,
                "no input" if silent else "invalid choice",
                path,
                attempt + 1,
            )
            if attempt >= self._tw.ivr.retries:
                # Out of tries: the number's own queue, where an agent can help.
                number = self._number(call.hub_number)
                return twiml(await self._enqueue(call, number.queue, path=path, attributes={}))
            apology = self._tw.ivr.no_input if silent else self._tw.ivr.invalid
            return twiml(self._menu(path, attempt=attempt + 1, greet=False, apology=apology))
        chosen = join_path(path, choice.key)
        if choice.menu is not None:
            await self._calls.update_call(call.call_sid, stages=["ivr"], ivr_path=chosen)
            return twiml(self._menu(chosen, attempt=0, greet=False))
        assert choice.queue is not None
        return twiml(
            await self._enqueue(call, choice.queue, path=chosen, attributes=choice.attributes)
        )

    async def _enqueue(
        self, call: VoiceCall, queue: str, *, path: str, attributes: Mapping[str, str]
    ) -> VoiceResponse:
        """Create the interaction (once per call) and put the caller in the queue."""
        claimed = await self._calls.update_call(
            call.call_sid, stages=["ivr"], stage="queued", ivr_path=path
        )
        if claimed is None:  # a retried menu answer: already queued
            current = await self._calls.voice_call(call.call_sid)
            assert current is not None
            return await self._resume(current)
        contact = InboundContact(
            channel=Channel.VOICE,
            identity=Identity(IdentityKind.PHONE, call.customer_number),
            thread_key=call_thread_key(call.call_sid),
            body=f"Phone call to {call.hub_number}" + (f" (menu {path})" if path else ""),
            attributes={
                "language": self._tw.ivr.language,
                **attributes,
                "address": call.hub_number,
                "ivr": path,
            },
        )
        try:
            recorded = await self._inbound.receive(contact, queue_name=queue)
        except Exception:
            await self._calls.update_call(call.call_sid, stages=["queued"], stage="ivr")
            raise
        interaction_id = recorded.interaction.interaction_id
        await self._calls.update_call(call.call_sid, interaction_id=interaction_id)
        log.info("interaction_id=%s call %s waits in %s", interaction_id, call.call_sid, queue)
        return self._enqueue_twiml(interaction_id)

    def _enqueue_twiml(self, interaction_id: int) -> VoiceResponse:
        r = VoiceResponse()
        r.enqueue(
            conference_name(interaction_id),
            wait_url=self._url(WAIT_PATH),
            wait_url_method="POST",
            action=self._url(WAITED_PATH),
            method="POST",
        )
        return r

    # ------------------------------------------------------------------ voicemail
    async def handle_voicemail_done(self, request: web.Request) -> web.StreamResponse:
        await self._known(await form_of(request))
        r = VoiceResponse()
        self._say(r, self._tw.voice.voicemail_thanks)
        r.hangup()
        return twiml(r)

    async def handle_recording(self, request: web.Request) -> web.StreamResponse:
        recording = parse_recording(await form_of(request))
        kind = request.query.get("kind")
        if recording.status != "completed" or recording.url is None:
            return web.Response(status=204)
        if kind == "voicemail" and recording.call_sid is not None:
            await self._voicemail_left(recording.call_sid, recording.url, recording.duration_s)
        elif kind == "call":
            iid = query_id(request)
            call = await self._calls.call_of_interaction(iid)
            if call is not None and call.recording_url != recording.url:
                await self._calls.update_call(
                    call.call_sid, recording_url=recording.url, recording_s=recording.duration_s
                )
                await self._store.add_step(iid, "call_recorded", now=self._clock())
        else:
            raise InvalidInput("kind must be voicemail or call")
        return web.Response(status=204)

    async def _voicemail_left(self, call_sid: str, url: str, duration_s: int | None) -> None:
        claimed = await self._calls.update_call(
            call_sid,
            stages=["voicemail"],
            stage="voicemail_left",
            recording_url=url,
            recording_s=duration_s,
        )
        if claimed is None:
            return  # delivered again, or not a voicemail
        number = self._number(claimed.hub_number)
        seconds = f" ({duration_s} s)" if duration_s is not None else ""
        contact = InboundContact(
            channel=Channel.VOICE,
            identity=Identity(IdentityKind.PHONE, claimed.customer_number),
            thread_key=call_thread_key(call_sid),
            body=f"Voicemail{seconds}: {url}",
            attributes={"address": claimed.hub_number, "language": self._tw.ivr.language},
        )
        try:
            recorded = await self._inbound.receive(contact, queue_name=number.queue)
        except Exception:
            # Twilio delivers the recording callback again: take it then.
            await self._calls.update_call(call_sid, stages=["voicemail_left"], stage="voicemail")
            raise
        await self._calls.update_call(call_sid, interaction_id=recorded.interaction.interaction_id)
        log.info(
            "interaction_id=%s voicemail from call %s",
            recorded.interaction.interaction_id,
            call_sid,
        )

    # ------------------------------------------------------------------ waiting
    async def _on_position(self, e: QueuePositionChanged) -> None:
        self._estimates[e.interaction_id] = e.estimated_wait_s

    async def handle_wait(self, request: web.Request) -> web.StreamResponse:
        call = await self._known(await form_of(request))
        r = VoiceResponse()
        if call.interaction_id is None or call.stage not in ("queued", "ringing"):
            r.pause(length=1)
            return twiml(r)
        iid = call.interaction_id
        self._say(r, position_text(self._router.position(iid), self._estimates.get(iid)))
        voice = self._tw.voice
        interaction = await self._store.interaction(iid)
        waited = (self._clock() - interaction.queued_at).total_seconds()
        if voice.callback_after_s is not None and waited >= voice.callback_after_s:
            gather = r.gather(
                input="dtmf",
                num_digits=1,
                timeout=3,
                action=self._url(CALLBACK_PATH),
                method="POST",
            )
            self._say(
                gather,
                "To keep your place and have us call you back, press 1. Or stay on the line.",
            )
        if voice.hold_music_url:
            r.play(voice.hold_music_url)
        else:
            r.pause(length=voice.announce_every_s)
        return twiml(r)

    async def handle_callback(self, request: web.Request) -> web.StreamResponse:
        form = await form_of(request)
        call = await self._known(form)
        r = VoiceResponse()
        if form.get("Digits") != "1" or call.interaction_id is None:
            if request.query.get("then") == "queue":  # the offer after the queue's max wait
                return twiml(await self._resume(call))
            r.redirect(self._url(WAIT_PATH), method="POST")
            return twiml(r)
        claimed = await self._calls.update_call(call.call_sid, stages=["queued"], stage="callback")
        if claimed is not None:
            try:
                await self._callback_requested(call)
            except Exception:
                await self._calls.update_call(call.call_sid, stages=["callback"], stage="queued")
                raise
        self._say(r, self._tw.voice.callback_thanks)
        r.hangup()
        return twiml(r)

    async def _callback_requested(self, call: VoiceCall) -> None:
        assert call.interaction_id is not None
        interaction = await self._store.add_step(
            call.interaction_id, "callback_requested", now=self._clock()
        )
        await self._inbound.receive(
            InboundContact(
                channel=Channel.VOICE,
                identity=Identity(IdentityKind.PHONE, call.customer_number),
                thread_key=call_thread_key(call.call_sid),
                body=f"Callback requested to {call.customer_number}",
            ),
            queue_name=interaction.queue,
        )
        log.info(
            "interaction_id=%s call %s: callback requested; keeps its place",
            call.interaction_id,
            call.call_sid,
        )

    async def handle_waited(self, request: web.Request) -> web.StreamResponse:
        form = await form_of(request)
        call = await self._known(form)
        result = form.get("QueueResult", "")
        if result in ("hangup", "error", "system-error", "queue-full"):
            await self._caller_gone(call)
        return twiml(VoiceResponse())

    async def _on_max_wait(self, e: MaxWaitPassed) -> None:
        """The caller waited the queue's ``max_wait_s``: offer a callback or take a voicemail
        (``on_max_wait``). Either stays the same interaction, with its place and age."""
        if e.interaction.channel is not Channel.VOICE or e.action not in ("callback", "voicemail"):
            return
        iid = e.interaction.interaction_id
        call = await self._calls.call_of_interaction(iid)
        if call is None or call.stage != "queued":
            return  # an agent's phone rings for it, or the caller left
        voice = self._tw.voice
        if e.action == "voicemail":
            if await self._calls.update_call(call.call_sid, stages=["queued"], stage="voicemail"):
                log.info("interaction_id=%s waited too long: voicemail", iid)
                self._spawn(
                    self._redirect(call.call_sid, self._voicemail(voice.max_wait_voicemail))
                )
            return
        r = VoiceResponse()
        offer = self._url(CALLBACK_PATH, then="queue")
        gather = r.gather(input="dtmf", num_digits=1, timeout=5, action=offer, method="POST")
        self._say(gather, voice.max_wait_callback)
        r.redirect(offer, method="POST")  # no key: back to the queue, same place
        log.info("interaction_id=%s waited too long: callback offered", iid)
        self._spawn(self._redirect(call.call_sid, r))

    async def handle_status(self, request: web.Request) -> web.StreamResponse:
        status = parse_status(await form_of(request))
        if status.status not in FINAL_STATUSES:
            return web.Response(status=204)
        raw = request.query.get("call")  # the customer leg we placed for a callback
        call = await self._calls.voice_call(raw or status.call_sid)
        if call is None:
            return web.Response(status=204)
        if (raw is not None or call.customer_leg_sid is not None) and (
            status.call_sid != call.customer_leg_sid
        ):
            return web.Response(status=204)  # a leg that is over already (an earlier try)
        if raw is not None and status.status in UNREACHABLE and call.stage == "connected":
            await self._callback_missed(call, status.call_sid, status.status)
            return web.Response(status=204)
        await self._caller_gone(call)
        return web.Response(status=204)

    # ------------------------------------------------------------------ callbacks
    async def _call_customer(self, call: VoiceCall, interaction: Interaction) -> None:
        """A callback: the agent is on the line; call the customer into the conference."""
        customer_sid = await self._api.create_call(
            to_number=call.customer_number,
            from_number=self._tw.voice.caller_id or call.hub_number,
            twiml=self._conference_twiml(interaction, caller=True).to_xml(),
            status_callback=self._url(VOICE_STATUS_PATH, call=call.call_sid),
            timeout_s=60,
        )
        await self._calls.update_call(call.call_sid, customer_leg_sid=customer_sid)
        log.info(
            "interaction_id=%s calling the customer back (%s, attempt %d)",
            interaction.interaction_id,
            customer_sid,
            call.attempts + 1,
        )

    async def _callback_missed(self, call: VoiceCall, leg: str | None, status: str) -> None:
        """The customer did not answer a callback (busy, no answer, failed): try again after
        ``callback_retry_s`` while the agent stays on the line, up to ``callback_attempts``;
        then the interaction closes with ``callback_failed``."""
        attempt = call.attempts + 1
        missed = await self._calls.update_call(
            call.call_sid,
            stages=["connected"],
            match={"customer_leg_sid": leg},
            customer_leg_sid=None,
            attempts=attempt,
        )
        if missed is None or missed.interaction_id is None:
            return
        iid = missed.interaction_id
        now = self._clock()
        reason = status.replace("-", "_")
        await self._store.add_step(
            iid, f"callback_attempt_{attempt}_{reason}", now=now, agent_id=missed.agent_id
        )
        voice = self._tw.voice
        if attempt < voice.callback_attempts:
            log.info("interaction_id=%s callback attempt %d: %s; again later", iid, attempt, reason)
            await self._participants.changed(iid)
            self._spawn(self._call_back_later(missed, voice.callback_retry_s))
            return
        failed = await self._calls.update_call(
            call.call_sid, stages=["connected"], stage="callback_failed", ended_at=now
        )
        if failed is None:
            return
        log.info("interaction_id=%s callback failed after %d attempts", iid, attempt)
        await self._store.add_step(iid, "callback_failed", now=now, agent_id=failed.agent_id)
        if failed.agent_call_sid:
            self._spawn(self._hang_up(failed.agent_call_sid, "completed"))
        if failed.agent_id is not None:
            try:
                await self._router.close(iid, failed.agent_id)
            except HubError as exc:
                log.info("interaction_id=%s: %s", iid, exc.message)
        await self._participants.changed(iid)

    async def _call_back_later(self, call: VoiceCall, delay_s: float) -> None:
        await asyncio.sleep(delay_s)
        current = await self._calls.voice_call(call.call_sid)
        if (
            current is None
            or current.interaction_id is None
            or current.stage != "connected"
            or current.customer_leg_sid is not None
            or current.attempts != call.attempts
        ):
            return  # the agent hung up meanwhile
        try:
            await self._call_customer(
                current, await self._store.interaction(current.interaction_id)
            )
        except HubError as exc:
            log.info(
                "interaction_id=%s callback not placed: %s", current.interaction_id, exc.message
            )
            await self._callback_missed(current, None, "failed")

    async def _caller_gone(self, call: VoiceCall) -> None:
        """The customer's leg ended: abandoned while waiting, or the end of the call."""
        now = self._clock()
        if call.stage == "ivr":
            await self._calls.update_call(
                call.call_sid, stages=["ivr"], stage="ended", ended_at=now
            )
            log.info("call %s: caller hung up in the menu", call.call_sid)
            return
        if call.stage in ("queued", "ringing", *PARKED):
            gone = await self._calls.update_call(
                call.call_sid, stages=[call.stage], stage="abandoned", ended_at=now
            )
            if gone is None or gone.interaction_id is None:
                return
            if call.stage in ("ringing", "transfer_ringing") and call.agent_call_sid:
                self._spawn(self._hang_up(call.agent_call_sid, "canceled"))
            log.info("interaction_id=%s caller hung up while waiting", gone.interaction_id)
            self._estimates.pop(gone.interaction_id, None)
            try:
                await self._router.customer_left(gone.interaction_id)
            except HubError as exc:
                log.info("interaction_id=%s not abandoned: %s", gone.interaction_id, exc.message)
            return
        if call.stage == "connected":
            await self._end_call(call, by="customer")

    # ------------------------------------------------------------------ connecting
    async def ring_agent(self, interaction: Interaction, agent: User) -> bool:
        """The agent accepted the offer in the console: call their phone (True). The offer is
        accepted when they answer (``handle_agent_status``). False when no caller is on the
        line (a voicemail): the offer is accepted as any other."""
        iid = interaction.interaction_id
        call = await self._calls.call_of_interaction(iid)
        if call is None or call.stage in ("voicemail", "voicemail_left"):
            return False
        if call.stage == "handover" and call.consult_agent_id == agent.user_id:
            return False  # a warm transfer: already on the phone with the caller
        if iid not in {i for i, _ in self._router.offers_for(agent.user_id)}:
            raise Conflict(f"interaction {iid} is not offered to you (taken or expired)")
        phone = await self._devices.dial_target(agent)  # their phone, or client:agent-<id>
        if call.stage not in RINGING:
            raise Conflict(f"the caller of interaction {iid} is no longer waiting")
        now = self._clock()
        claimed = await self._calls.update_call(
            call.call_sid,
            stages=[call.stage],
            stage=RINGING[call.stage],
            agent_id=agent.user_id,
            agent_call_sid=None,
            ring_started_at=now,
        )
        if claimed is None:
            raise Conflict(f"the caller of interaction {iid} is already being connected")
        remaining = min(
            (expires - now).total_seconds()
            for i, expires in self._router.offers_for(agent.user_id)
            if i == iid
        )
        ring_s = max(5, min(self._tw.voice.agent_ring_timeout_s, int(remaining)))
        try:
            agent_sid = await self._api.create_call(
                to_number=phone,
                from_number=self._tw.voice.caller_id or call.hub_number,
                twiml=self._conference_twiml(
                    interaction, greeting=f"Call from {call.customer_number}."
                ).to_xml(),
                status_callback=self._url(AGENT_PATH, interaction_id=iid, agent_id=agent.user_id),
                timeout_s=ring_s,
            )
        except HubError:
            await self._calls.update_call(
                call.call_sid, stages=[claimed.stage], stage=call.stage, agent_id=None
            )
            raise
        await self._calls.update_call(call.call_sid, agent_call_sid=agent_sid)
        log.info(
            "interaction_id=%s ringing agent_id=%s at %s (call %s, %d s)",
            iid,
            agent.user_id,
            "their browser" if phone.startswith("client:") else "their phone",
            agent_sid,
            ring_s,
        )
        return True

    def conference_twiml(
        self, interaction: Interaction, *, greeting: str = "", caller: bool = False
    ) -> VoiceResponse:
        """The TwiML that joins a leg to the interaction's conference (click-to-call too);
        the ``caller``'s leg stays up for a keypad rating when their queue asks one."""
        return self._conference_twiml(interaction, greeting=greeting, caller=caller)

    async def end_call(self, call: VoiceCall, *, by: str) -> VoiceCall | None:
        return await self._end_call(call, by=by)

    def hang_up_soon(self, call_sid: str, status: str) -> None:
        """End a leg (``completed``, or ``canceled`` while it rings) after answering."""
        self._spawn(self._hang_up(call_sid, status))

    def _conference_twiml(
        self, interaction: Interaction, *, greeting: str = "", caller: bool = False
    ) -> VoiceResponse:
        r = VoiceResponse()
        self._say(r, greeting)
        survey = self._survey
        dial = r.dial(**(survey.dial_action(interaction) if caller and survey else {}))
        iid = interaction.interaction_id
        extra: dict[str, Any] = {}
        if self._settings.record_calls(interaction.queue):
            extra = {
                "record": "record-from-start",
                "recording_status_callback": self._url(
                    RECORDING_PATH, kind="call", interaction_id=iid
                ),
                "recording_status_callback_method": "POST",
            }
        dial.conference(
            conference_name(iid),
            start_conference_on_enter=True,
            end_conference_on_exit=True,
            beep=False,
            status_callback=self._url(CONFERENCE_PATH, interaction_id=iid),
            status_callback_event="start end join leave hold",
            status_callback_method="POST",
            **extra,
        )
        return r

    async def handle_agent_status(self, request: web.Request) -> web.StreamResponse:
        status = parse_status(await form_of(request))
        iid, agent_id = query_id(request), query_id(request, "agent_id")
        call = await self._calls.call_of_interaction(iid)
        if call is None:
            raise NotFound(f"no call for interaction {iid}")
        mine = call.agent_id == agent_id and call.agent_call_sid in (None, status.call_sid)
        if status.status == "in-progress":
            await self._agent_answered(call, status.call_sid, agent_id, mine)
        elif status.status in UNREACHABLE and mine and call.stage in BACK:
            await self._agent_unreachable(call, agent_id, UNREACHABLE[status.status])
        elif status.status == "completed" and mine and call.stage == "connected":
            await self._end_call(call, by="agent")
        return web.Response(status=204)

    async def _agent_answered(
        self, call: VoiceCall, agent_sid: str, agent_id: int, mine: bool
    ) -> None:
        now = self._clock()
        iid = call.interaction_id
        assert iid is not None
        claimed = None
        if mine and call.stage in BACK:
            claimed = await self._calls.update_call(
                call.call_sid,
                stages=[call.stage],
                stage="connected",
                agent_call_sid=agent_sid,
                answered_at=now,
                ring_s=_seconds(call.ring_started_at, now),
            )
        if claimed is None:
            if call.stage != "connected" or call.agent_call_sid != agent_sid:
                # Too late (the caller left, the offer expired): free the agent's phone.
                self._spawn(self._hang_up(agent_sid, "completed"))
            return
        try:
            await self._router.accept(iid, agent_id)
        except HubError as exc:
            log.info("interaction_id=%s answered too late: %s", iid, exc.message)
            await self._calls.update_call(
                call.call_sid, stages=["connected"], stage=call.stage, agent_id=None
            )
            self._spawn(self._hang_up(agent_sid, "completed"))
            return
        # On the interaction's record: the ring time is this step's time less the offer's.
        interaction = await self._store.add_step(iid, "call_answered", now=now, agent_id=agent_id)
        if call.stage == "callback_ringing":
            await self._call_customer(claimed, interaction)
        elif call.stage == "transfer_ringing":
            # A transferred caller waits on hold in the conference the agent just joined.
            try:
                await self._participants.hold(claimed, False, now)
            except HubError as exc:  # the agent can still take them off hold in the console
                log.warning("interaction_id=%s caller still on hold: %s", iid, exc.message)
        else:
            await self._api.update_call(
                call.call_sid, twiml=self._conference_twiml(interaction, caller=True).to_xml()
            )
        log.info("interaction_id=%s agent_id=%s answered; caller connected", iid, agent_id)
        await self._participants.changed(iid)

    async def _agent_unreachable(self, call: VoiceCall, agent_id: int, reason: str) -> None:
        back = await self._calls.update_call(
            call.call_sid,
            stages=[call.stage],
            stage=BACK[call.stage],
            agent_id=None,
            agent_call_sid=None,
            ring_started_at=None,
        )
        if back is None or back.interaction_id is None:
            return
        log.info(
            "interaction_id=%s agent_id=%s unreachable (%s); back to waiting",
            back.interaction_id,
            agent_id,
            reason,
        )
        try:
            await self._router.submit(OfferUnreachable(back.interaction_id, agent_id, reason))
        except HubError as exc:
            log.info("interaction_id=%s: %s", back.interaction_id, exc.message)

    async def _on_withdrawn(self, e: OfferWithdrawn) -> None:
        """The offer went away while the agent's phone rang (expired, caller left): stop
        ringing it and let the caller wait again."""
        call = await self._calls.call_of_interaction(e.interaction_id)
        if call is None or call.stage not in BACK or call.agent_id != e.agent_id:
            return
        back = await self._calls.update_call(
            call.call_sid, stages=[call.stage], stage=BACK[call.stage], agent_id=None
        )
        if back is not None and call.agent_call_sid:
            self._spawn(self._hang_up(call.agent_call_sid, "canceled"))

    async def _on_requeued(self, e: InteractionRequeued) -> None:
        """The agent transferred the call (to a queue or a colleague): the caller waits on
        hold in the conference for the next agent (``Participants.park``). Before the
        conference has started, the caller goes back to the queue instead, which ends the
        agent's leg; a callback customer is let go and called back by the next agent."""
        if e.interaction.channel is not Channel.VOICE:
            return
        call = await self._calls.call_of_interaction(e.interaction.interaction_id)
        if call is None or call.stage != "connected":
            return
        if call.conference_sid is not None:
            if await self._participants.park(call, stages=("connected",)) is not None:
                log.info(
                    "interaction_id=%s call transferred; the caller waits on hold",
                    e.interaction.interaction_id,
                )
                await self._participants.changed(e.interaction.interaction_id)
            return
        callback = call.customer_leg_sid is not None
        moved = await self._calls.update_call(
            call.call_sid,
            stages=["connected"],
            stage="callback" if callback else "queued",
            agent_id=None,
            agent_call_sid=None,
            customer_leg_sid=None,
            conference_sid=None,
            answered_at=None,
            held_since=None,
            muted=False,
        )
        if moved is None:
            return
        iid = e.interaction.interaction_id
        log.info("interaction_id=%s call transferred; the caller waits again", iid)
        if callback:
            assert call.customer_leg_sid is not None
            self._spawn(self._hang_up(call.customer_leg_sid, "completed"))
        else:
            self._spawn(self._redirect(call.call_sid, self._enqueue_twiml(iid)))
        if call.agent_call_sid:
            self._spawn(self._hang_up(call.agent_call_sid, "completed"))

    async def _on_wrap_up(self, e: WrapUpStarted) -> None:
        """The agent closed the interaction in the console while the call was up: hang up."""
        if e.interaction.channel is not Channel.VOICE or e.closed_by != "agent":
            return
        call = await self._calls.call_of_interaction(e.interaction.interaction_id)
        if call is None or call.stage != "connected":
            return
        now = self._clock()
        ended = await self._calls.update_call(
            call.call_sid,
            stages=["connected"],
            stage="ended",
            ended_at=now,
            talk_s=_seconds(call.answered_at, now),
            hung_up_by="agent",
            **NO_EXTRA_LEGS,
        )
        if ended is not None:
            iid = e.interaction.interaction_id
            await self._store.add_step(iid, "call_ended_by_agent", now=now, agent_id=call.agent_id)
            leg = call.customer_leg_sid or call.call_sid
            if self._survey is not None and self._survey.asks(e.interaction):
                # The caller leaves the conference for the keypad rating; the agent's leg
                # ends with the conference.
                self._spawn(self._redirect(leg, self._survey.prompt(iid)))
            else:
                self._spawn(self._hang_up(leg, "completed"))

    async def _redirect(self, call_sid: str, response: VoiceResponse) -> None:
        try:
            await self._api.update_call(call_sid, twiml=response.to_xml())
        except HubError as exc:
            log.warning("call %s could not be moved: %s", call_sid, exc.message)

    async def _hang_up(self, call_sid: str, status: str) -> None:
        try:
            await self._api.update_call(call_sid, status=status)
        except HubError as exc:
            log.warning("call %s could not be ended: %s", call_sid, exc.message)

    async def handle_conference(self, request: web.Request) -> web.StreamResponse:
        event = parse_conference(await form_of(request))
        iid = query_id(request)
        call = await self._calls.call_of_interaction(iid)
        if call is None:
            raise NotFound(f"no call for interaction {iid}")
        now = self._clock()
        if call.conference_sid != event.conference_sid:
            call = (
                await self._calls.update_call(call.call_sid, conference_sid=event.conference_sid)
                or call
            )
        customer = event.call_sid == customer_leg(call)
        # Only the customer's and the agent's legs end the call; a colleague consulted or a
        # supervisor comes and goes.
        if event.event == "participant-leave" and call.stage == "connected":
            if customer or event.call_sid == call.agent_call_sid:
                await self._end_call(call, by="customer" if customer else "agent")
        elif event.event == "conference-end" and call.stage == "connected":
            await self._end_call(call, by="customer")
        elif call.stage in PARKED and (
            event.event == "conference-end" or (event.event == "participant-leave" and customer)
        ):
            await self._caller_gone(call)
        elif event.event == "participant-hold" and customer:
            if call.held_since is None:
                await self._calls.update_call(call.call_sid, held_since=now)
        elif event.event == "participant-unhold" and customer and call.stage == "connected":
            await self._participants.unheld(call, now)
        return web.Response(status=204)

    async def _end_call(self, call: VoiceCall, *, by: str) -> VoiceCall | None:
        """The conversation is over (whoever hung up first): record it, start wrap-up."""
        now = self._clock()
        if call.held_since is not None:
            call = await self._participants.unheld(call, now)
        ended = await self._calls.update_call(
            call.call_sid,
            stages=["connected"],
            stage="ended",
            ended_at=now,
            talk_s=_seconds(call.answered_at, now),
            hung_up_by=by,
            **NO_EXTRA_LEGS,
        )
        if ended is None or ended.interaction_id is None:
            return ended
        iid = ended.interaction_id
        self._estimates.pop(iid, None)
        log.info("interaction_id=%s call ended; %s hung up first", iid, by)
        await self._store.add_step(iid, f"call_ended_by_{by}", now=now, agent_id=ended.agent_id)
        try:
            if by == "agent" and ended.agent_id is not None:
                await self._router.close(iid, ended.agent_id)
            else:
                await self._router.customer_left(iid)
        except HubError as exc:  # the agent closed it in the console already
            log.info("interaction_id=%s: %s", iid, exc.message)
        await self._participants.changed(iid)
        return await self._calls.voice_call(call.call_sid)

    # ------------------------------------------------------------------ the desk
    async def control(self, interaction: Interaction, action: str) -> dict[str, Any]:
        """Hold/resume the customer, mute/unmute the agent, or hang up, through the REST API
        on the conference participant."""
        call = await self._calls.call_of_interaction(interaction.interaction_id)
        if call is None or call.stage != "connected":
            raise Conflict(f"interaction {interaction.interaction_id} has no call in progress")
        now = self._clock()
        if action == "hangup":
            await self._api.update_call(customer_leg(call), status="completed")
            ended = await self._end_call(call, by="agent")
            return call_json(ended or call)
        conference = call.conference_sid
        if conference is None:
            raise Conflict("the call is still being connected; try again in a moment")
        if action in ("hold", "resume"):
            call = await self._participants.hold(call, action == "hold", now)
        elif action in ("mute", "unmute") and call.agent_call_sid is not None:
            muted = action == "mute"
            await self._api.update_participant(conference, call.agent_call_sid, muted=muted)
            call = await self._calls.update_call(call.call_sid, muted=muted) or call
        else:
            raise InvalidInput("action must be one of: hold, resume, mute, unmute, hangup")
        if action in ("hold", "resume"):
            step = "call_held" if action == "hold" else "call_resumed"
            await self._store.add_step(
                interaction.interaction_id, step, now=now, agent_id=call.agent_id
            )
        log.info("interaction_id=%s call %s", interaction.interaction_id, action)
        return call_json(call)

    async def consult(
        self, interaction: Interaction, agent: User, action: str, colleague_id: int | None
    ) -> dict[str, Any]:
        """A warm transfer: start a consultation with a colleague, complete it, or cancel it."""
        call = await self._participants.consult(interaction, agent, action, colleague_id)
        return await self._call_details(call)

    async def monitor(self, interaction_id: int, supervisor: User, mode: str) -> dict[str, Any]:
        """A supervisor listens to the call, whispers to its agent, or stops."""
        call = await self._participants.monitor(interaction_id, supervisor, mode)
        return await self._call_details(call)

    async def live_calls(self) -> list[dict[str, Any]]:
        """The calls in progress, for the supervisors' view."""
        return [await self._call_details(call) for call in await self._calls.live_calls()]

    async def _call_details(self, call: VoiceCall) -> dict[str, Any]:
        """``call_json`` with the names of the colleague consulted and the supervisor."""
        names: dict[str, str | None] = {}
        for key, user_id in (("consult", call.consult_agent_id), ("monitor", call.monitor_user_id)):
            user = None if user_id is None else await self._store.user(user_id)
            names[f"{key}_name"] = user.name if user else None
        return {**call_json(call), **names}

    async def store_reply(self, interaction: Interaction, *, agent: User, data: Any) -> Message:
        raise InvalidInput("a phone call takes no written replies; add a note instead")

    async def details(self, interaction: Interaction) -> dict[str, Any]:
        call = await self._calls.call_of_interaction(interaction.interaction_id)
        if call is None:
            return {}
        return {"voice": await self._call_details(call)}


def _at(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def call_json(call: VoiceCall) -> dict[str, Any]:
    """A call as the console shows it."""
    return {
        "call_sid": call.call_sid,
        "stage": call.stage,
        "customer_number": call.customer_number,
        "hub_number": call.hub_number,
        "ivr": call.ivr_path,
        "ring_started_at": _at(call.ring_started_at),
        "answered_at": _at(call.answered_at),
        "ended_at": _at(call.ended_at),
        "ring_s": call.ring_s,
        "talk_s": call.talk_s,
        "hold_s": call.hold_s,
        "held": call.held_since is not None,
        "muted": call.muted,
        "hung_up_by": call.hung_up_by,
        "recording_url": call.recording_url,
        "recording_s": call.recording_s,
        "interaction_id": call.interaction_id,
        "agent_id": call.agent_id,
        "callback_attempts": call.attempts,
        "callback_retrying": call.stage == "connected"
        and call.attempts > 0
        and call.customer_leg_sid is None,
        "consult_agent_id": call.consult_agent_id,
        "consult_stage": call.consult_stage,
        "monitor_user_id": call.monitor_user_id,
        "monitor_mode": call.monitor_mode,
    }
