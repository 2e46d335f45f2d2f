"""The satisfaction survey on the phone: a keypad rating after the agent hangs up.

The caller's leg joins the conference with ``<Dial action=...>`` when their queue surveys
calls. Every participant leaves with ``endConferenceOnExit``, so when the agent hangs up the
conference ends and Twilio, instead of ending the caller's call, asks the action for what
comes next: a ``<Gather numDigits=1>`` "rate 1 to 5", whose key comes back to
``SURVEY_RATED_PATH``. If the caller hung up first, the action's answer is moot (``<Hangup>``).
An agent closing a live call in the console moves the caller to the same prompt.

Both webhooks are behind the Twilio signature gate and must come from the caller's own leg
of the interaction's call; anything else is hung up without effect.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from twilio.twiml.voice_response import VoiceResponse

from channels.twilio.webhook import VOICE_PATH, Handler, form_of, query_id, twiml
from hub.errors import Conflict
from hub.model import Channel, Interaction
from hub.ports import Store, VoiceCall, VoiceStore
from hub.satisfaction import bare_score
from hub.surveys import Surveys

log = logging.getLogger(__name__)

SURVEY_PATH = VOICE_PATH + "/survey"  # the caller's <Dial> action: the conference is over
SURVEY_RATED_PATH = VOICE_PATH + "/survey/rated"  # the <Gather> action: the key pressed
PROMPT = (
    "Before you go, please rate the help you received today. "
    "Press 1 for very poor, up to 5 for excellent."
)
AGAIN = "Sorry, please press a key from 1 to 5."
THANKS = "Thank you for your rating. Goodbye."
GOODBYE = "Thank you for calling. Goodbye."
ATTEMPTS = 2  # a wrong key is asked again once
GATHER_TIMEOUT_S = 8


def _customer_leg(call: VoiceCall) -> str:
    return call.customer_leg_sid or call.call_sid


class CallSurveys:
    def __init__(
        self,
        *,
        surveys: Surveys,
        store: Store,
        voice_store: VoiceStore,
        url: Callable[..., str],
        say: Callable[[Any, str], None],
        end_call: Callable[[VoiceCall], Awaitable[VoiceCall | None]],
    ) -> None:
        self._surveys = surveys
        self._store = store
        self._calls = voice_store
        self._url = url
        self._say = say
        self._end_call = end_call

    def asks(self, interaction: Interaction) -> bool:
        """Whether this call's queue surveys calls (its caller's <Dial> gets the action)."""
        policy = self._surveys.policy(interaction.queue)
        return policy.enabled and Channel.VOICE in policy.channels

    def dial_action(self, interaction: Interaction) -> dict[str, str]:
        """The caller's ``<Dial>`` attributes that keep their leg after the conference."""
        if not self.asks(interaction):
            return {}
        return {
            "action": self._url(SURVEY_PATH, interaction_id=interaction.interaction_id),
            "method": "POST",
        }

    def prompt(self, interaction_id: int, attempt: int = 1, apology: str = "") -> VoiceResponse:
        r = VoiceResponse()
        gather = r.gather(
            num_digits=1,
            action=self._url(SURVEY_RATED_PATH, interaction_id=interaction_id, attempt=attempt),
            method="POST",
            timeout=GATHER_TIMEOUT_S,
        )
        self._say(gather, f"{apology} {PROMPT}".strip())
        self._say(r, GOODBYE)
        r.hangup()
        return r

    async def _callers_call(self, request: web.Request) -> tuple[VoiceCall, Any] | None:
        """The interaction's call, if the webhook is about its caller's leg."""
        form = await form_of(request)
        call = await self._calls.call_of_interaction(query_id(request))
        if call is None or form.get("CallSid") != _customer_leg(call):
            return None
        return call, form

    async def handle_after_conference(self, request: web.Request) -> web.StreamResponse:
        """The caller's conference ended; if they are still on the line the agent hung up:
        end the call as the agent's and ask for a rating."""
        found = await self._callers_call(request)
        done = VoiceResponse()
        done.hangup()
        if found is None:
            return twiml(done)
        call, form = found
        if form.get("CallStatus") in ("completed", "canceled", "failed", "busy", "no-answer"):
            return twiml(done)  # the caller hung up; nothing to say to anyone
        if call.stage == "connected":
            await self._end_call(call)
        assert call.interaction_id is not None
        interaction = await self._store.interaction(call.interaction_id)
        if not self.asks(interaction) or not self._surveys.surveys(interaction):
            return twiml(done)
        log.info("interaction_id=%s caller asked for a keypad rating", call.interaction_id)
        return twiml(self.prompt(call.interaction_id))

    async def handle_rated(self, request: web.Request) -> web.StreamResponse:
        found = await self._callers_call(request)
        done = VoiceResponse()
        if found is None:
            done.hangup()
            return twiml(done)
        call, form = found
        assert call.interaction_id is not None
        raw_attempt = request.query.get("attempt", "1")
        attempt = int(raw_attempt) if raw_attempt.isdigit() else ATTEMPTS
        score = bare_score(form.get("Digits", ""))
        if score is None:
            if attempt < ATTEMPTS:
                return twiml(self.prompt(call.interaction_id, attempt + 1, AGAIN))
            self._say(done, GOODBYE)
            done.hangup()
            return twiml(done)
        interaction = await self._store.interaction(call.interaction_id)
        try:
            await self._surveys.rate(interaction, score=score, comment=None, channel=Channel.VOICE)
        except Conflict as exc:
            log.info("interaction_id=%s keypad rating not taken: %s", call.interaction_id, exc)
            self._say(done, GOODBYE)
        else:
            self._say(done, THANKS)
        done.hangup()
        return twiml(done)

    def routes(self) -> dict[str, Handler]:
        return {SURVEY_PATH: self.handle_after_conference, SURVEY_RATED_PATH: self.handle_rated}
