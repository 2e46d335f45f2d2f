"""A real hub with one Twilio voice number and an IVR, wired to the fake Twilio API, and
Twilio's side playing calls (``CallFlow``)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from hub.config import load_settings
from hub.model import Role
from tests.fakes.call_flow import AgentLeg, CallFlow
from tests.fakes.sms_hub import ACCOUNT_SID, AUTH_TOKEN, environ
from tests.fakes.twilio_api import FakeTwilioApi
from tests.fakes.twilio_webhooks import TwilioSide
from tests.functional.conftest import Client, Running, connect, free_port, serve

VOICE_NUMBER = "+14155550199"
CALLER = "+14155550123"
ALICE_PHONE = "+14155550177"
BOB_PHONE = "+14155550178"
CAROL_PHONE = "+14155550179"  # a supervisor's
API_KEY_SID = "SK" + "2" * 32
API_KEY_SECRET = "api-key-secret-for-tests-9c1e4b7d20aa"
TWIML_APP_SID = "AP" + "3" * 32
# The browser phone set up: an API key in the environment, a TwiML App in config.
BROWSER_PHONE = {
    "env": {"TWILIO_API_KEY_SID": API_KEY_SID, "TWILIO_API_KEY_SECRET": API_KEY_SECRET},
    "twilio": {"twiml_app_sid": TWIML_APP_SID, "browser_token_ttl_s": 600},
}
HOLD_MUSIC = "https://music.example.com/hold.mp3"

IVR = {
    "greeting": "Welcome to Example Corp.",
    "language": "en-GB",
    "voice": "Polly.Amy",
    "timeout_s": 4,
    "retries": 1,
    "menu": {
        "prompt": "Please choose.",
        "choices": [
            {"key": "1", "say": "For sales", "words": ["sales"], "queue": "sales"},
            {
                "key": "2",
                "say": "For support",
                "words": ["support", "help"],
                "menu": {
                    "prompt": "Support.",
                    "choices": [
                        {"key": "1", "say": "For billing", "queue": "calls"},
                        {
                            "key": "2",
                            "say": "En español",
                            "queue": "calls",
                            "attributes": {"language": "es"},
                        },
                    ],
                },
            },
        ],
    },
}


def voice_config(
    *,
    public_url: str,
    api_base_url: str,
    closed: bool = False,
    routing: dict[str, Any] | None = None,
    queues: dict[str, dict[str, Any]] | None = None,
    twilio: dict[str, Any] | None = None,
    **voice: Any,
) -> dict[str, Any]:
    """``queues``: extra settings by queue name (e.g. ``max_wait_s`` for "calls")."""
    extra = queues or {}
    # Closed: a schedule with no opening hours at all.
    weekly: dict[str, str] = {} if closed else {"mon-sun": "00:00-24:00"}
    return {
        "routing": {
            "sticky_s": 0,
            "no_answer_delay_s": 0,
            "busy_delay_s": 0,
            "missed_offers_before_away": 0,
            **(routing or {}),
        },
        "queues": [
            {"name": "support", "channels": ["webchat"], "wrap_up_s": 0},
            {
                "name": "calls",
                "channels": ["voice"],
                "offer_timeout_s": 30,
                "wrap_up_s": 60,
                "record": True,
                **extra.get("calls", {}),
            },
            {
                "name": "sales",
                "channels": ["voice"],
                "offer_timeout_s": 30,
                "wrap_up_s": 60,
                **extra.get("sales", {}),
            },
        ],
        "agents": [
            {"email": "alice@example.com", "phone": ALICE_PHONE},
            {"email": "bob@example.com", "phone": BOB_PHONE},
            {"email": "carol@example.com", "phone": CAROL_PHONE},
        ],
        "business_hours": {"lines": {"timezone": "UTC", "weekly": weekly}},
        "twilio": {
            "public_url": public_url,
            "api_base_url": api_base_url,
            "numbers": [
                {
                    "number": VOICE_NUMBER,
                    "purposes": ["voice"],
                    "queue": "calls",
                    "business_hours": "lines",
                }
            ],
            "ivr": IVR,
            "voice": {"hold_music_url": HOLD_MUSIC, "callback_after_s": 0, **voice},
            **(twilio or {}),
        },
    }


@dataclass
class VoiceScene:
    running: Running
    api: FakeTwilioApi
    twilio: TwilioSide
    clients: list[Client] = field(default_factory=list)

    def call(self, from_number: str = CALLER) -> CallFlow:
        return CallFlow(self.twilio, from_number, VOICE_NUMBER)

    async def agent(self, email: str = "alice@example.com", name: str = "Alice") -> Client:
        """A signed-in, available agent's /agent socket."""
        await self.running.add_user(email, name, Role.AGENT)
        client = await connect(self.running.base, "/agent", token=await self.running.sign_in(email))
        self.clients.append(client)
        await client.next("hello")
        ack = await client.call("set_state", {"state": "available"})
        assert ack.get("ok"), ack
        return client

    async def supervisor(self, email: str = "carol@example.com", name: str = "Carol") -> Client:
        """A signed-in supervisor's /supervisor socket (its first "calls" list read)."""
        await self.running.add_user(email, name, Role.SUPERVISOR)
        client = await connect(
            self.running.base, "/supervisor", token=await self.running.sign_in(email)
        )
        self.clients.append(client)
        await client.next("calls")
        return client

    async def agent_leg(self, flow: CallFlow, count: int) -> AgentLeg:
        """The ``count``-th call the hub placed (waiting for it)."""
        await self.api.wait_for(count, "/Calls.json")
        return AgentLeg(flow, self.api.placed_calls[count - 1])

    async def added_participant(self, flow: CallFlow, count: int) -> AgentLeg:
        """The ``count``-th leg the hub called into a conference (waiting for it)."""
        await self.api.wait_for(count, "/Participants.json")
        return AgentLeg(flow, self.api.added_participants[count - 1])

    async def steps(self, interaction_id: int) -> list[tuple[str, int | None]]:
        """The interaction's timeline on the customer's record: (step, agent or supervisor)."""
        store = self.running.hub.store
        interaction = await store.interaction(interaction_id)
        records = await store.interactions(customer_id=interaction.customer_id)
        [record] = [r for r in records if r.interaction.interaction_id == interaction_id]
        return [(step.step, step.agent_id) for step in record.steps]

    async def queued_at(self, interaction_id: int) -> datetime:
        return (await self.running.hub.store.interaction(interaction_id)).queued_at


@contextlib.asynccontextmanager
async def voice_hub(
    tmp_path: Path, *, env: dict[str, str] | None = None, **options: Any
) -> AsyncIterator[VoiceScene]:
    api = FakeTwilioApi(ACCOUNT_SID, AUTH_TOKEN)
    api.add_number(VOICE_NUMBER)
    await api.start()
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    path = tmp_path / "config.yaml"
    config = voice_config(public_url=public, api_base_url=api.base_url, **options)
    path.write_text(yaml.safe_dump(config))
    settings = load_settings(path, environ(tmp_path, port) | (env or {}))
    try:
        async with serve(settings) as running:
            scene = VoiceScene(
                running, api, TwilioSide(running.base, public, AUTH_TOKEN, ACCOUNT_SID)
            )
            try:
                yield scene
            finally:
                for client in scene.clients:
                    await client.close()
    finally:
        await api.close()
