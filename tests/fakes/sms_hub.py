"""A real hub with one Twilio SMS number, wired to the fake Twilio API, and Twilio's side."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from hub.config import load_settings
from hub.model import Role
from hub.ports import Clock
from tests.fakes.twilio_api import FakeTwilioApi
from tests.fakes.twilio_webhooks import TwilioSide
from tests.functional.backend import hub_database_url
from tests.functional.conftest import Client, Running, connect, free_port, serve

ACCOUNT_SID = "AC" + "1" * 32
AUTH_TOKEN = "twilio-test-auth-token-7f3a9c"
HUB_NUMBER = "+14155550100"
CUSTOMER = "+14155550123"


def sms_config(
    *,
    public_url: str,
    api_base_url: str,
    wrap_up_s: float = 0,
    csat: dict[str, Any] | None = None,
) -> dict[str, Any]:
    texts: dict[str, Any] = {
        "name": "texts",
        "channels": ["sms"],
        "offer_timeout_s": 30,
        "wrap_up_s": wrap_up_s,
    }
    if csat is not None:
        texts["csat"] = csat  # the texts queue's satisfaction survey
    return {
        "routing": {"sticky_s": 0, "no_answer_delay_s": 0, "missed_offers_before_away": 0},
        "queues": [
            {"name": "support", "channels": ["webchat"], "wrap_up_s": wrap_up_s},
            texts,
        ],
        "twilio": {
            "public_url": public_url,
            "api_base_url": api_base_url,
            "numbers": [{"number": HUB_NUMBER, "purposes": ["sms"], "queue": "texts"}],
        },
    }


def environ(tmp_path: Path, port: int) -> dict[str, str]:
    return {
        "HUB_DATABASE__URL": hub_database_url(tmp_path),
        "HUB_HTTP__PORT": str(port),
        "HUB_SECURITY__SECRET_KEY": "test-secret-key-not-for-production",
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
    }


@dataclass
class SmsScene:
    running: Running
    api: FakeTwilioApi
    twilio: TwilioSide
    clients: list[Client] = field(default_factory=list)

    async def agent(self, email: str = "alice@example.com", name: str = "Alice") -> Client:
        """A signed-in, available agent's /agent socket."""
        await self.running.add_user(email, name, Role.AGENT)
        client = await connect(self.running.base, "/agent", token=await self.running.sign_in(email))
        self.clients.append(client)
        await client.next("hello")
        ack = await client.call("set_state", {"state": "available"})
        assert ack.get("ok"), ack
        return client


@contextlib.asynccontextmanager
async def sms_hub(
    tmp_path: Path,
    *,
    public_url: str | None = None,
    wrap_up_s: float = 0,
    csat: dict[str, Any] | None = None,
    clock: Clock | None = None,
) -> AsyncIterator[SmsScene]:
    api = FakeTwilioApi(ACCOUNT_SID, AUTH_TOKEN)
    api.add_number(HUB_NUMBER)
    await api.start()
    port = free_port()
    public = public_url or f"http://127.0.0.1:{port}"
    path = tmp_path / "config.yaml"
    path.write_text(
        yaml.safe_dump(
            sms_config(public_url=public, api_base_url=api.base_url, wrap_up_s=wrap_up_s, csat=csat)
        )
    )
    settings = load_settings(path, environ(tmp_path, port))
    try:
        async with serve(settings, clock) as running:
            scene = SmsScene(
                running, api, TwilioSide(running.base, public, AUTH_TOKEN, ACCOUNT_SID)
            )
            try:
                yield scene
            finally:
                for client in scene.clients:
                    await client.close()
    finally:
        await api.close()
