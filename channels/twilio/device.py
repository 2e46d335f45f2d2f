"""The browser phone: where each agent takes calls, and the access tokens with which the
console registers the Twilio Voice JS SDK (``Twilio.Device``).

An agent takes calls on their phone (``agents[].phone`` in config, the default) or in the
browser; the choice is theirs, made in the console and kept per agent (``DeviceStore``). In
the browser an agent is the Twilio Client ``agent-<user_id>``: that is the identity in their
token and the address (``client:agent-<user_id>``) the hub dials for their leg of a call.

Tokens are signed with an API key that only the environment holds (``TWILIO_API_KEY_SID``,
``TWILIO_API_KEY_SECRET``; never logged), carry a voice grant (incoming calls allowed,
outgoing calls answered by the TwiML App ``twilio.twiml_app_sid``) and live
``twilio.browser_token_ttl_s``; the console renews them before they expire. Only an agent
who chose the browser gets one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import VoiceGrant

from hub.auth import require_role
from hub.config import Settings
from hub.errors import Conflict, InvalidInput, Unavailable
from hub.model import Role, User
from hub.ports import Clock, DeviceStore

log = logging.getLogger(__name__)

PHONE = "phone"
BROWSER = "browser"
DEVICES = (PHONE, BROWSER)
# Who takes calls: the staff the router offers contacts to.
TAKES_CALLS = frozenset({Role.AGENT, Role.SUPERVISOR})


def client_identity(agent_id: int) -> str:
    return f"agent-{agent_id}"


def client_address(agent_id: int) -> str:
    """What the hub dials to ring an agent's browser."""
    return f"client:{client_identity(agent_id)}"


@dataclass(frozen=True, slots=True)
class DeviceToken:
    token: str  # a JWT for Twilio.Device; never logged
    identity: str
    ttl_s: int


class Devices:
    """The agent's device choice and the browser phone's tokens."""

    def __init__(self, *, settings: Settings, store: DeviceStore, clock: Clock) -> None:
        self._settings = settings
        self._tw = settings.twilio
        self._store = store
        self._clock = clock

    def _browser_problem(self) -> str | None:
        missing = self._tw.browser_phone_missing()
        if not missing:
            return None
        return "the browser phone is not set up on this hub (it needs " + ", ".join(missing) + ")"

    def _phone(self, agent: User) -> str | None:
        return self._settings.agent_phone(agent.email)

    async def device_of(self, agent: User) -> str:
        return await self._store.agent_device(agent.user_id) or PHONE

    async def describe(self, agent: User) -> dict[str, Any]:
        """What the console's device chooser shows."""
        return {
            "device": await self.device_of(agent),
            "phone": self._phone(agent),
            "browser_available": self._browser_problem() is None,
            "browser_problem": self._browser_problem(),
        }

    async def choose(self, agent: User, data: Any) -> dict[str, Any]:
        require_role(agent, TAKES_CALLS)
        device = data.get("device") if isinstance(data, dict) else None
        if device not in DEVICES:
            raise InvalidInput("device must be one of: " + ", ".join(DEVICES))
        if device == BROWSER and (problem := self._browser_problem()) is not None:
            raise Unavailable(problem)
        if device == PHONE and self._phone(agent) is None:
            raise InvalidInput(
                f"no phone number for {agent.email}: set agents[].phone in config.yaml"
            )
        await self._store.set_agent_device(agent.user_id, device, now=self._clock())
        log.info("agent_id=%s takes calls on the %s", agent.user_id, device)
        return await self.describe(agent)

    async def dial_target(self, agent: User) -> str:
        """Where to ring ``agent`` for a call: their browser, or their phone number."""
        if await self.device_of(agent) == BROWSER:
            problem = self._browser_problem()
            if problem is not None:
                raise Unavailable(f"{problem}; choose your phone in the console")
            return client_address(agent.user_id)
        phone = self._phone(agent)
        if phone is None:
            raise InvalidInput(
                f"no phone number for {agent.email}: set agents[].phone in config.yaml "
                "or take calls in the browser"
            )
        return phone

    async def token(self, agent: User) -> DeviceToken:
        require_role(agent, TAKES_CALLS)
        problem = self._browser_problem()
        if problem is not None:
            raise Unavailable(problem)
        if await self.device_of(agent) != BROWSER:
            raise Conflict("you take calls on your phone; choose the browser first")
        tw = self._tw
        assert tw.account_sid and tw.api_key_sid and tw.api_key_secret
        identity = client_identity(agent.user_id)
        token = AccessToken(
            tw.account_sid.get_secret_value(),
            tw.api_key_sid.get_secret_value(),
            tw.api_key_secret.get_secret_value(),
            identity=identity,
            ttl=tw.browser_token_ttl_s,
        )
        token.add_grant(VoiceGrant(incoming_allow=True, outgoing_application_sid=tw.twiml_app_sid))
        log.info("agent_id=%s: browser phone token for %s", agent.user_id, identity)
        return DeviceToken(token.to_jwt(), identity, tw.browser_token_ttl_s)
