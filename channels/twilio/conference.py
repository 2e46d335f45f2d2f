"""The legs of a live call's conference besides the customer's and the agent's first one,
through Twilio's conference Participants API (add, update: hold, mute, coach; remove).

A call in progress is a conference named for the interaction (``calls.py``). Here:

- **Transfer (cold).** When the agent transfers the call to a queue or a colleague, the
  customer stays in the conference, on hold with the hold music, while the router offers the
  interaction again (stage ``transfer``); the agent's leg is made not to end the conference,
  then removed. The next agent's phone joins the same conference, and when they answer the
  customer is taken off hold (``calls.py``).
- **Transfer (warm, with a consultation).** The agent puts the customer on hold and calls a
  colleague into the conference (``consult_stage`` ringing, then talking). *Complete*: the
  router transfers the interaction to that colleague and it is accepted for them at once
  (they said yes on the phone), so capacity and counters stay right (stage ``handover``
  until then); their leg becomes the call's agent leg, the first agent's leg leaves and the
  customer is taken off hold. *Cancel*, or the colleague hangs up or does not answer: their
  leg goes and the customer is back with the agent. Steps ``transfer_consult_started``,
  ``_completed`` and ``_cancelled`` name the colleague (their ``agent_id``).
- **Supervisor.** ``listen``: the supervisor's phone joins muted; ``whisper``: as a coach of
  the agent's leg (only the agent hears them); ``stop``: their leg goes. Steps
  ``call_listened``, ``call_whispered`` and ``call_monitor_stopped`` name the supervisor.

Every change is claimed first on the call's row (a conditional update, so two clicks or a
retried callback change it once) and then made on Twilio; a refused REST request puts the
row back. Consoles hear of each change through ``CallChanged``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any, Protocol

from aiohttp import web

from channels.twilio.client import TwilioApi
from channels.twilio.voice import FINAL_STATUSES, parse_status
from channels.twilio.webhook import VOICE_PATH, add_webhooks, form_of, query_id
from hub.auth import STAFF
from hub.config import Settings
from hub.errors import Conflict, HubError, InvalidInput, NotFound
from hub.events import AgentStateReported, CallChanged, InteractionAssigned, OfferWithdrawn
from hub.model import Channel, Interaction, Presence, User
from hub.ports import Clock, EventBus, Store, VoiceCall, VoiceStore

log = logging.getLogger(__name__)

CONSULT_PATH = VOICE_PATH + "/consult"  # call status of a consulted colleague's leg
MONITOR_PATH = VOICE_PATH + "/monitor"  # call status of a supervisor's leg
CONSULT_ACTIONS = ("start", "complete", "cancel")
MONITOR_MODES = ("listen", "whisper", "stop")
PARKED = ("transfer", "transfer_ringing")  # the customer waits on hold in the conference

_NO_CONSULT = {"consult_agent_id": None, "consult_call_sid": None, "consult_stage": None}
_NO_MONITOR = {"monitor_user_id": None, "monitor_call_sid": None, "monitor_mode": None}
# When the call ends, so does the conference, with every leg in it.
NO_EXTRA_LEGS = {**_NO_CONSULT, **_NO_MONITOR}


class ParticipantRouter(Protocol):
    """What transfers ask of the routing runner."""

    async def transfer(
        self, interaction_id: int, agent_id: int, *, to_queue: str | None, to_agent: int | None
    ) -> None: ...
    async def accept(self, interaction_id: int, agent_id: int) -> None: ...
    def state_of(self, agent_id: int) -> AgentStateReported: ...


def customer_leg(call: VoiceCall) -> str:
    """The customer's leg: the call they made, or the one we placed for a callback."""
    return call.customer_leg_sid or call.call_sid


class Participants:
    def __init__(
        self,
        *,
        settings: Settings,
        store: Store,
        voice_store: VoiceStore,
        router: ParticipantRouter,
        api: TwilioApi,
        bus: EventBus,
        clock: Clock,
        url: Callable[..., str],
        spawn: Callable[[Coroutine[Any, Any, None]], None],
    ) -> None:
        self._settings = settings
        self._voice = settings.twilio.voice
        self._store = store
        self._calls = voice_store
        self._router = router
        self._api = api
        self._bus = bus
        self._clock = clock
        self._url = url
        self._spawn = spawn
        bus.subscribe(InteractionAssigned, self._on_assigned)
        bus.subscribe(OfferWithdrawn, self._on_withdrawn)

    def add_routes(self, twilio: web.Application) -> None:
        add_webhooks(
            twilio,
            {CONSULT_PATH: self.handle_consult_status, MONITOR_PATH: self.handle_monitor_status},
        )

    # ------------------------------------------------------------------ helpers
    def _from(self, call: VoiceCall) -> str:
        return self._voice.caller_id or call.hub_number

    def _phone(self, user: User) -> str:
        phone = self._settings.agent_phone(user.email)
        if phone is None:
            raise InvalidInput(
                f"no phone number for {user.email}: set agents[].phone in config.yaml"
            )
        return phone

    async def _live(self, interaction_id: int) -> tuple[VoiceCall, str]:
        """The call in progress on an interaction, and its conference."""
        call = await self._calls.call_of_interaction(interaction_id)
        if call is None or call.stage != "connected":
            raise Conflict(f"interaction {interaction_id} has no call in progress")
        if call.conference_sid is None:
            raise Conflict("the call is still being connected; try again in a moment")
        return call, call.conference_sid

    async def _call_in(
        self,
        call: VoiceCall,
        conference: str,
        phone: str,
        *,
        path: str,
        label: str,
        muted: bool = False,
        coach: str | None = None,
    ) -> str:
        """Ring ``phone`` into the call's conference; its status callbacks go to ``path``."""
        return await self._api.add_participant(
            conference,
            to_number=phone,
            from_number=self._from(call),
            status_callback=self._url(path, interaction_id=call.interaction_id),
            timeout_s=self._voice.agent_ring_timeout_s,
            label=label,
            muted=muted,
            coach=coach,
        )

    async def changed(self, interaction_id: int) -> None:
        await self._bus.publish(CallChanged(await self._store.interaction(interaction_id)))

    async def _quietly(self, doing: str, call_sid: str, request: Coroutine[Any, Any, None]) -> None:
        """A REST request whose failure leaves nothing to undo (the leg is gone already)."""
        try:
            await request
        except HubError as exc:
            log.warning("call %s: could not %s: %s", call_sid, doing, exc.message)

    # ------------------------------------------------------------------ hold
    async def hold(self, call: VoiceCall, hold: bool, now: datetime) -> VoiceCall:
        """Put the customer on hold (hearing the hold music) or back, and keep the hold time."""
        assert call.conference_sid is not None
        await self._api.update_participant(
            call.conference_sid, customer_leg(call), hold=hold, hold_url=self._voice.hold_music_url
        )
        if hold:
            if call.held_since is not None:
                return call
            return await self._calls.update_call(call.call_sid, held_since=now) or call
        return await self.unheld(call, now)

    async def unheld(self, call: VoiceCall, now: datetime) -> VoiceCall:
        """The customer is off hold: add the time on hold to the call's total."""
        if call.held_since is None:
            return call
        held = (now - call.held_since).total_seconds()
        return (
            await self._calls.update_call(
                call.call_sid, held_since=None, hold_s=round(call.hold_s + held, 1)
            )
            or call
        )

    # ------------------------------------------------------------------ cold transfer
    async def park(self, call: VoiceCall, *, stages: tuple[str, ...]) -> VoiceCall | None:
        """The call's agent gave the call back to the router: the customer waits on hold in
        the conference; the agent's leg (and a colleague's or supervisor's) leaves it."""
        parked = await self._calls.update_call(
            call.call_sid,
            stages=stages,
            stage="transfer",
            agent_id=None,
            agent_call_sid=None,
            answered_at=None,
            held_since=call.held_since or self._clock(),
            muted=False,
            **_NO_CONSULT,
            **_NO_MONITOR,
        )
        if parked is None:
            return None
        legs = [sid for sid in (call.agent_call_sid, call.consult_call_sid) if sid]
        self._spawn(self._leave(parked, legs, monitor=call.monitor_call_sid))
        return parked

    async def _leave(self, call: VoiceCall, legs: list[str], *, monitor: str | None) -> None:
        assert call.conference_sid is not None
        conference = call.conference_sid
        await self._quietly(
            "hold the customer",
            customer_leg(call),
            self._api.update_participant(
                conference, customer_leg(call), hold=True, hold_url=self._voice.hold_music_url
            ),
        )
        for leg in legs:
            # The agent's leg ends the conference when it leaves, unless told otherwise.
            await self._quietly(
                "keep the conference",
                leg,
                self._api.update_participant(conference, leg, end_conference_on_exit=False),
            )
        for leg in [*legs, *([monitor] if monitor else [])]:
            await self._quietly(
                "remove the leg", leg, self._api.remove_participant(conference, leg)
            )

    # ------------------------------------------------------------------ warm transfer
    async def consult(
        self, interaction: Interaction, agent: User, action: str, colleague_id: int | None
    ) -> VoiceCall:
        if action == "start":
            if colleague_id is None:
                raise InvalidInput("agent_id: the colleague to consult is missing")
            return await self._start_consult(interaction, agent, colleague_id)
        if action == "complete":
            return await self._complete_consult(interaction, agent)
        if action == "cancel":
            call, _ = await self._live(interaction.interaction_id)
            if call.consult_call_sid is None:
                raise Conflict("no consultation is in progress")
            return await self.end_consult(call, call.consult_call_sid, hang_up=True) or call
        raise InvalidInput("action must be one of: " + ", ".join(CONSULT_ACTIONS))

    async def _start_consult(
        self, interaction: Interaction, agent: User, colleague_id: int
    ) -> VoiceCall:
        iid = interaction.interaction_id
        call, conference = await self._live(iid)
        if call.consult_agent_id is not None:
            raise Conflict("a consultation is already in progress; complete or cancel it first")
        if colleague_id == agent.user_id:
            raise InvalidInput("agent_id: choose a colleague, not yourself")
        colleague = await self._store.user(colleague_id)
        if colleague is None or colleague.role not in STAFF:
            raise NotFound(f"no agent {colleague_id}")
        state = self._router.state_of(colleague_id).state
        if state is not Presence.AVAILABLE:
            raise Conflict(f"{colleague.name} is {state.value} and cannot take the call now")
        phone = self._phone(colleague)
        now = self._clock()
        claimed = await self._calls.update_call(
            call.call_sid,
            stages=["connected"],
            match={"consult_agent_id": None},
            consult_agent_id=colleague_id,
            consult_stage="ringing",
        )
        if claimed is None:
            raise Conflict("a consultation is already in progress; complete or cancel it first")
        try:
            claimed = await self.hold(claimed, True, now)
            leg = await self._call_in(call, conference, phone, path=CONSULT_PATH, label="consult")
        except HubError:
            await self._calls.update_call(
                call.call_sid, match={"consult_agent_id": colleague_id}, **_NO_CONSULT
            )
            if call.held_since is None:  # it was not on hold before
                self._spawn(self._quietly("take off hold", call.call_sid, self._resume(iid)))
            raise
        consulting = await self._calls.update_call(
            call.call_sid, match={"consult_agent_id": colleague_id}, consult_call_sid=leg
        )
        await self._store.add_step(iid, "transfer_consult_started", now=now, agent_id=colleague_id)
        log.info(
            "interaction_id=%s agent_id=%s consults agent_id=%s (call %s)",
            iid,
            agent.user_id,
            colleague_id,
            leg,
        )
        await self.changed(iid)
        return consulting or claimed

    async def _resume(self, interaction_id: int) -> None:
        call = await self._calls.call_of_interaction(interaction_id)
        if call is not None and call.stage == "connected" and call.conference_sid:
            await self.hold(call, False, self._clock())

    async def end_consult(
        self, call: VoiceCall, consult_sid: str, *, hang_up: bool
    ) -> VoiceCall | None:
        """The consultation is over without a transfer: the colleague's leg goes (``hang_up``:
        we end it) and the customer is back with the agent."""
        cleared = await self._calls.update_call(
            call.call_sid,
            stages=["connected"],
            match={"consult_call_sid": consult_sid},
            **_NO_CONSULT,
        )
        if cleared is None:
            return None
        now = self._clock()
        iid = call.interaction_id
        assert iid is not None
        await self._store.add_step(
            iid, "transfer_consult_cancelled", now=now, agent_id=call.consult_agent_id
        )
        log.info("interaction_id=%s consultation with agent_id=%s over", iid, call.consult_agent_id)
        if hang_up:
            conference = cleared.conference_sid
            assert conference is not None
            ending = (
                self._api.update_call(consult_sid, status="canceled")
                if call.consult_stage == "ringing"
                else self._api.remove_participant(conference, consult_sid)
            )
            self._spawn(self._quietly("end the consultation", consult_sid, ending))
        try:
            cleared = await self.hold(cleared, False, now)
        except HubError as exc:
            log.warning("interaction_id=%s customer not taken off hold: %s", iid, exc.message)
        await self.changed(iid)
        return cleared

    async def _complete_consult(self, interaction: Interaction, agent: User) -> VoiceCall:
        iid = interaction.interaction_id
        call, _ = await self._live(iid)
        colleague = call.consult_agent_id
        if colleague is None or call.consult_call_sid is None:
            raise Conflict("no consultation is in progress")
        if call.consult_stage != "talking":
            raise Conflict("your colleague has not answered yet")
        claimed = await self._calls.update_call(
            call.call_sid,
            stages=["connected"],
            match={"consult_call_sid": call.consult_call_sid, "consult_stage": "talking"},
            stage="handover",
        )
        if claimed is None:
            raise Conflict("the consultation changed; look again")
        try:
            await self._router.transfer(iid, agent.user_id, to_queue=None, to_agent=colleague)
        except HubError:
            await self._calls.update_call(call.call_sid, stages=["handover"], stage="connected")
            raise
        try:
            # The colleague said yes on the phone: their offer is taken for them at once.
            await self._router.accept(iid, colleague)
        except HubError as exc:
            log.info(
                "interaction_id=%s offered to agent_id=%s, who accepts it in the console: %s",
                iid,
                colleague,
                exc.message,
            )
        return await self._calls.voice_call(call.call_sid) or claimed

    async def _on_assigned(self, e: InteractionAssigned) -> None:
        """The consulted colleague now holds the interaction: their leg is the call's."""
        if e.interaction.channel is not Channel.VOICE:
            return
        call = await self._calls.call_of_interaction(e.interaction.interaction_id)
        if (
            call is None
            or call.stage != "handover"
            or call.consult_agent_id != e.interaction.agent_id
            or call.consult_call_sid is None
        ):
            return
        done = await self._calls.update_call(
            call.call_sid,
            stages=["handover"],
            stage="connected",
            agent_id=call.consult_agent_id,
            agent_call_sid=call.consult_call_sid,
            muted=False,
            **_NO_CONSULT,
        )
        if done is None:
            return
        iid = e.interaction.interaction_id
        await self._store.add_step(
            iid, "transfer_consult_completed", now=self._clock(), agent_id=done.agent_id
        )
        log.info("interaction_id=%s warm transfer to agent_id=%s complete", iid, done.agent_id)
        self._spawn(self._hand_over(done, call.agent_call_sid))

    async def _hand_over(self, call: VoiceCall, first_leg: str | None) -> None:
        assert call.conference_sid is not None and call.agent_call_sid is not None
        conference = call.conference_sid
        await self._quietly(
            "make the new agent's leg end the call",
            call.agent_call_sid,
            self._api.update_participant(
                conference, call.agent_call_sid, end_conference_on_exit=True
            ),
        )
        if first_leg is not None:
            await self._quietly(
                "keep the conference",
                first_leg,
                self._api.update_participant(conference, first_leg, end_conference_on_exit=False),
            )
            await self._quietly(
                "remove the first agent",
                first_leg,
                self._api.remove_participant(conference, first_leg),
            )
        await self._quietly(
            "take the customer off hold", customer_leg(call), self._resume(call.interaction_id or 0)
        )
        if call.interaction_id is not None:
            await self.changed(call.interaction_id)

    async def _on_withdrawn(self, e: OfferWithdrawn) -> None:
        """The colleague's offer went (declined, expired) before the handover: the customer
        waits on hold for whoever takes it next."""
        call = await self._calls.call_of_interaction(e.interaction_id)
        if call is not None and call.stage == "handover" and call.consult_agent_id == e.agent_id:
            await self.park(call, stages=("handover",))

    async def handle_consult_status(self, request: web.Request) -> web.StreamResponse:
        status = parse_status(await form_of(request))
        call = await self._calls.call_of_interaction(query_id(request))
        if call is None or call.consult_call_sid != status.call_sid:
            return web.Response(status=204)  # over already, or now the call's agent leg
        if status.status == "in-progress":
            talking = await self._calls.update_call(
                call.call_sid,
                match={"consult_call_sid": status.call_sid, "consult_stage": "ringing"},
                consult_stage="talking",
            )
            if talking is not None and talking.interaction_id is not None:
                await self.changed(talking.interaction_id)
        elif status.status in FINAL_STATUSES and call.stage == "connected":
            # The colleague hung up, did not answer, or was busy.
            await self.end_consult(call, status.call_sid, hang_up=False)
        return web.Response(status=204)

    # ------------------------------------------------------------------ supervisors
    async def monitor(self, interaction_id: int, supervisor: User, mode: str) -> VoiceCall:
        """Listen to a live call (muted), whisper to its agent (coach), or stop."""
        if mode not in MONITOR_MODES:
            raise InvalidInput("mode must be one of: " + ", ".join(MONITOR_MODES))
        call, conference = await self._live(interaction_id)
        now = self._clock()
        if mode == "stop":
            if call.monitor_call_sid is None:
                raise Conflict("no supervisor is on this call")
            stopped = await self.monitor_over(call, call.monitor_call_sid, by=supervisor.user_id)
            if stopped is not None:
                self._spawn(
                    self._quietly(
                        "remove the supervisor",
                        call.monitor_call_sid,
                        self._api.remove_participant(conference, call.monitor_call_sid),
                    )
                )
            return stopped or call
        coach = call.agent_call_sid if mode == "whisper" else None
        if mode == "whisper" and coach is None:
            raise Conflict("the agent's phone is not on the call")
        if call.monitor_user_id is not None and call.monitor_user_id != supervisor.user_id:
            other = await self._store.user(call.monitor_user_id)
            raise Conflict(f"{other.name if other else 'another supervisor'} is on this call")
        if call.monitor_call_sid is not None:
            if call.monitor_mode == mode:
                return call
            await self._api.update_participant(
                conference,
                call.monitor_call_sid,
                muted=mode == "listen",
                coaching=mode == "whisper",
                coach=coach,
            )
            watched = await self._calls.update_call(
                call.call_sid, match={"monitor_call_sid": call.monitor_call_sid}, monitor_mode=mode
            )
        else:
            phone = self._phone(supervisor)
            claimed = await self._calls.update_call(
                call.call_sid,
                stages=["connected"],
                match={"monitor_user_id": None},
                monitor_user_id=supervisor.user_id,
                monitor_mode=mode,
            )
            if claimed is None:
                raise Conflict("another supervisor is joining this call")
            try:
                leg = await self._call_in(
                    call,
                    conference,
                    phone,
                    path=MONITOR_PATH,
                    label="supervisor",
                    muted=mode == "listen",
                    coach=coach,
                )
            except HubError:
                await self._calls.update_call(
                    call.call_sid, match={"monitor_user_id": supervisor.user_id}, **_NO_MONITOR
                )
                raise
            watched = await self._calls.update_call(
                call.call_sid, match={"monitor_user_id": supervisor.user_id}, monitor_call_sid=leg
            )
        step = "call_listened" if mode == "listen" else "call_whispered"
        await self._store.add_step(interaction_id, step, now=now, agent_id=supervisor.user_id)
        log.info(
            "interaction_id=%s supervisor user_id=%s: %s", interaction_id, supervisor.user_id, mode
        )
        await self.changed(interaction_id)
        return watched or call

    async def monitor_over(
        self, call: VoiceCall, monitor_sid: str, *, by: int | None
    ) -> VoiceCall | None:
        cleared = await self._calls.update_call(
            call.call_sid, match={"monitor_call_sid": monitor_sid}, **_NO_MONITOR
        )
        if cleared is None or cleared.interaction_id is None:
            return cleared
        await self._store.add_step(
            cleared.interaction_id,
            "call_monitor_stopped",
            now=self._clock(),
            agent_id=by if by is not None else call.monitor_user_id,
        )
        await self.changed(cleared.interaction_id)
        return cleared

    async def handle_monitor_status(self, request: web.Request) -> web.StreamResponse:
        status = parse_status(await form_of(request))
        call = await self._calls.call_of_interaction(query_id(request))
        if call is not None and status.status in FINAL_STATUSES:
            if call.monitor_call_sid == status.call_sid:  # the supervisor hung up
                await self.monitor_over(call, status.call_sid, by=None)
        return web.Response(status=204)
