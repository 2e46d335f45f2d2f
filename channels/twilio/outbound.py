"""Click-to-call: an agent calls a customer from the console.

The call is the agent's from the start: its interaction is born assigned to them (logged on
the customer's record, never queued or offered to anyone else) and joins the router as held,
so the agent gets no other call meanwhile. Then, like a callback, the hub rings the agent
first (their phone or their browser) and calls the customer only once the agent answers,
both into the conference named for the interaction, with the caller ID from config
(``twilio.voice.caller_id``, else the voice number's own)::

    dialing ──agent answers──▶ connected ──customer answers──▶ (talking) ──▶ ended
       │                           │
       └──agent unreachable──▶ ended └──customer busy / no answer──▶ ended

Ring time is the customer's (from dialling them to their answer) and talk time runs from
their answer; the conference, hold, mute and hang-up are the voice channel's, as for any
call. A call that never reached the customer ends with wrap-up, like any other.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from aiohttp import web
from twilio.twiml.voice_response import VoiceResponse

from channels.twilio.client import TwilioApi
from channels.twilio.device import Devices
from channels.twilio.voice import FINAL_STATUSES, parse_status, seconds_between
from channels.twilio.webhook import PREFIX, VOICE_PATH, form_of, query_id, twiml
from hub.config import Settings
from hub.errors import Conflict, HubError, InvalidInput, NotFound, Unavailable
from hub.events import AgentStateReported, CallChanged, InteractionAssigned, WrapUpStarted
from hub.model import Channel, IdentityKind, Interaction, User
from hub.ports import Clock, EventBus, OutboundCallStore, Store, VoiceCall, VoiceStore
from hub.web import public
from routing.events import Event, InteractionHeld

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

OUTBOUND_AGENT_PATH = VOICE_PATH + "/outbound/agent"  # the agent leg's call status
OUTBOUND_CUSTOMER_PATH = VOICE_PATH + "/outbound/customer"  # the customer leg's call status
CLIENT_PATH = VOICE_PATH + "/client"  # the TwiML App's voice URL: a call a browser places
CUSTOMER_RING_S = 45
KEY_PREFIX = "outbound-"  # an outbound call's row key (no customer CallSid to key it by yet)


class CallRouter(Protocol):
    async def submit(self, event: Event) -> None: ...
    def state_of(self, agent_id: int) -> AgentStateReported: ...
    async def close(self, interaction_id: int, agent_id: int) -> None: ...
    async def customer_left(self, interaction_id: int) -> None: ...


class Conference(Protocol):
    """What the voice channel lends: the conference every call meets in, its end, and
    hanging up a leg once the webhook is answered."""

    def conference_twiml(
        self, interaction: Interaction, *, greeting: str = "", caller: bool = False
    ) -> VoiceResponse: ...
    async def end_call(self, call: VoiceCall, *, by: str) -> VoiceCall | None: ...
    def hang_up_soon(self, call_sid: str, status: str) -> None: ...


class OutboundCalls:
    def __init__(
        self,
        *,
        settings: Settings,
        store: Store,
        outbound_store: OutboundCallStore,
        voice_store: VoiceStore,
        router: CallRouter,
        bus: EventBus,
        clock: Clock,
        api: TwilioApi,
        devices: Devices,
        conference: Conference,
    ) -> None:
        assert settings.twilio.public_url is not None
        self._tw = settings.twilio
        self._public_url = settings.twilio.public_url
        self._store = store
        self._outbound = outbound_store
        self._calls = voice_store
        self._router = router
        self._bus = bus
        self._clock = clock
        self._api = api
        self._devices = devices
        self._conference = conference
        self._placing: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)
        bus.subscribe(WrapUpStarted, self._on_wrap_up)

    def _url(self, route: str, interaction_id: int) -> str:
        return f"{self._public_url}{route}?interaction_id={interaction_id}"

    def add_routes(self, twilio: web.Application) -> None:
        """Routes on the signature-checked ``/twilio`` sub-application."""

        def route(method: Handler) -> Handler:
            async def handler(request: web.Request) -> web.StreamResponse:
                return await method(request)

            return public(handler)

        twilio.router.add_post(
            OUTBOUND_AGENT_PATH.removeprefix(PREFIX), route(self.handle_agent_leg)
        )
        twilio.router.add_post(
            OUTBOUND_CUSTOMER_PATH.removeprefix(PREFIX), route(self.handle_customer_leg)
        )
        twilio.router.add_post(CLIENT_PATH.removeprefix(PREFIX), route(self.handle_client_call))

    # ------------------------------------------------------------------ placing the call
    def _from_number(self) -> tuple[str, str]:
        """(caller ID, the queue the call is counted in): the first voice number's."""
        number = next((n for n in self._tw.numbers if "voice" in n.purposes), None)
        if number is None:
            raise Unavailable("phone calls are not set up on this hub (no voice number)")
        return self._tw.voice.caller_id or number.number, number.queue

    async def call_customer(self, agent: User, customer_id: int, number: Any) -> Interaction:
        """Call one of the customer's phone numbers (the first when ``number`` is None)."""
        customer = await self._store.customer_summary(customer_id)
        phones = [i.value for i in customer.identities if i.kind is IdentityKind.PHONE]
        if not phones:
            raise InvalidInput("this customer has no phone number to call")
        if number is None:
            number = phones[0]
        elif number not in phones:
            raise InvalidInput(f"{str(number)[:40]!r} is not one of this customer's numbers")
        caller_id, queue = self._from_number()
        target = await self._devices.dial_target(agent)
        async with self._placing[agent.user_id]:
            # Held or offered: the router counts both (the store checks the held ones again).
            if self._router.state_of(agent.user_id).load.get(Channel.VOICE, 0) > 0:
                raise Conflict("you are on another call; end it before calling a customer")
            return await self._place(agent, customer_id, number, caller_id, queue, target)

    async def _place(
        self, agent: User, customer_id: int, number: str, caller_id: str, queue: str, target: str
    ) -> Interaction:
        now = self._clock()
        key = KEY_PREFIX + secrets.token_hex(16)
        interaction, call = await self._outbound.record_outbound_call(
            key,
            agent=agent,
            customer_id=customer_id,
            customer_number=number,
            hub_number=caller_id,
            queue=queue,
            now=now,
        )
        iid = interaction.interaction_id
        try:
            await self._router.submit(
                InteractionHeld(iid, agent.user_id, queue, Channel.VOICE, None, now, 0)
            )
        except HubError:
            await self._give_up(call, "call_not_placed", agent_id=agent.user_id)
            raise
        await self._bus.publish(InteractionAssigned(interaction, agent.name))
        log.info("interaction_id=%s agent_id=%s calls a customer", iid, agent.user_id)
        try:
            agent_sid = await self._api.create_call(
                to_number=target,
                from_number=caller_id,
                twiml=self._conference.conference_twiml(
                    interaction, greeting=f"Calling {number}."
                ).to_xml(),
                status_callback=self._url(OUTBOUND_AGENT_PATH, iid),
                timeout_s=self._tw.voice.agent_ring_timeout_s,
            )
        except HubError:
            await self._give_up(call, "call_not_placed", agent_id=agent.user_id)
            raise
        await self._calls.update_call(key, agent_call_sid=agent_sid)
        return await self._store.interaction(iid)

    async def _give_up(self, call: VoiceCall, step: str, *, agent_id: int | None) -> None:
        """The call never reached the customer: end it, note why, start wrap-up."""
        ended = await self._calls.update_call(
            call.call_sid,
            stages=["dialing", "connected"],
            stage="ended",
            ended_at=self._clock(),
            hung_up_by="agent" if step != "call_unanswered" else "customer",
        )
        if ended is None or ended.interaction_id is None:
            return
        iid = ended.interaction_id
        await self._store.add_step(iid, step, now=self._clock(), agent_id=agent_id)
        log.info("interaction_id=%s outbound call ended: %s", iid, step)
        try:
            if step == "call_unanswered":
                await self._router.customer_left(iid)
            elif ended.agent_id is not None:
                await self._router.close(iid, ended.agent_id)
        except HubError as exc:  # already closed in the console, or never held
            log.info("interaction_id=%s: %s", iid, exc.message)

    # ------------------------------------------------------------------ the legs
    async def _call_of(self, request: web.Request) -> VoiceCall:
        iid = query_id(request)
        call = await self._calls.call_of_interaction(iid)
        if call is None:
            raise NotFound(f"no call for interaction {iid}")
        return call

    async def handle_agent_leg(self, request: web.Request) -> web.StreamResponse:
        status = parse_status(await form_of(request))
        call = await self._call_of(request)
        if call.agent_call_sid not in (None, status.call_sid):
            return web.Response(status=204)  # not this call's agent leg
        if status.status == "in-progress" and call.stage == "dialing":
            await self._agent_answered(call, status.call_sid)
        elif status.status == "in-progress" and call.stage == "ended":
            self._conference.hang_up_soon(status.call_sid, "completed")  # answered too late
        elif status.status in FINAL_STATUSES and call.stage == "dialing":
            await self._give_up(call, f"call_agent_{status.status}", agent_id=call.agent_id)
        elif status.status in FINAL_STATUSES and call.stage == "connected":
            if call.answered_at is None:  # the agent gave up while the customer's phone rang
                if call.customer_leg_sid:
                    self._conference.hang_up_soon(call.customer_leg_sid, "canceled")
                await self._give_up(call, "call_cancelled", agent_id=call.agent_id)
            else:
                await self._conference.end_call(call, by="agent")
        return web.Response(status=204)

    async def _agent_answered(self, call: VoiceCall, agent_sid: str) -> None:
        now = self._clock()
        claimed = await self._calls.update_call(
            call.call_sid,
            stages=["dialing"],
            stage="connected",
            agent_call_sid=agent_sid,
            ring_started_at=now,  # from now on: the customer's phone rings
        )
        if claimed is None or claimed.interaction_id is None:
            return
        iid = claimed.interaction_id
        interaction = await self._store.add_step(
            iid, "call_agent_answered", now=now, agent_id=claimed.agent_id
        )
        try:
            customer_sid = await self._api.create_call(
                to_number=claimed.customer_number,
                from_number=claimed.hub_number,
                twiml=self._conference.conference_twiml(interaction, caller=True).to_xml(),
                status_callback=self._url(OUTBOUND_CUSTOMER_PATH, iid),
                timeout_s=CUSTOMER_RING_S,
            )
        except HubError:
            self._conference.hang_up_soon(agent_sid, "completed")
            await self._give_up(claimed, "call_not_placed", agent_id=claimed.agent_id)
            return
        await self._calls.update_call(call.call_sid, customer_leg_sid=customer_sid)
        await self._bus.publish(CallChanged(interaction))
        log.info("interaction_id=%s agent answered; calling the customer (%s)", iid, customer_sid)

    async def handle_customer_leg(self, request: web.Request) -> web.StreamResponse:
        status = parse_status(await form_of(request))
        call = await self._call_of(request)
        if call.customer_leg_sid not in (None, status.call_sid):
            return web.Response(status=204)
        now = self._clock()
        if (
            status.status == "in-progress"
            and call.answered_at is None
            and call.stage == "connected"
        ):
            answered = await self._calls.update_call(
                call.call_sid,
                stages=["connected"],
                answered_at=now,
                ring_s=seconds_between(call.ring_started_at, now),
            )
            if answered is not None and answered.interaction_id is not None:
                interaction = await self._store.add_step(
                    answered.interaction_id, "call_answered", now=now, agent_id=call.agent_id
                )
                await self._bus.publish(CallChanged(interaction))
        elif status.status in FINAL_STATUSES and call.answered_at is None:
            if call.agent_call_sid:  # the agent waits alone in the conference: free them
                self._conference.hang_up_soon(call.agent_call_sid, "completed")
            await self._give_up(call, "call_unanswered", agent_id=call.agent_id)
        elif status.status in FINAL_STATUSES and call.stage == "connected":
            await self._conference.end_call(call, by="customer")
        return web.Response(status=204)

    async def handle_client_call(self, request: web.Request) -> web.StreamResponse:
        """A browser placed a call itself (the TwiML App's voice URL): calls to customers
        start from the console, where they are logged, so this one is politely ended."""
        await form_of(request)
        r = VoiceResponse()
        r.say(
            "Calls to customers start from the customer panel of the console. Goodbye.",
            voice=self._tw.ivr.voice,
            language=self._tw.ivr.language,
        )
        r.hangup()
        return twiml(r)

    async def _on_wrap_up(self, e: WrapUpStarted) -> None:
        """The agent closed the interaction in the console before anyone answered."""
        if e.interaction.channel is not Channel.VOICE or e.closed_by != "agent":
            return
        call = await self._calls.call_of_interaction(e.interaction.interaction_id)
        if call is None or not call.call_sid.startswith(KEY_PREFIX) or call.answered_at is not None:
            return
        if call.stage not in ("dialing", "connected"):
            return
        # The voice channel may end a connected one first; either way both legs go.
        await self._calls.update_call(
            call.call_sid,
            stages=[call.stage],
            stage="ended",
            ended_at=self._clock(),
            hung_up_by="agent",
        )
        for sid in (call.agent_call_sid, call.customer_leg_sid):
            if sid:
                self._conference.hang_up_soon(sid, "canceled")
