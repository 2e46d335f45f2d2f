"""The browser phone on a real hub: an agent chooses where they take calls, the console gets a
Twilio Voice JS SDK access token (decoded here with PyJWT, as Twilio would verify it), and a
call the agent accepts rings their browser (``client:agent-<id>``) instead of their phone."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import aiohttp
import jwt
import pytest

from hub.model import Role
from tests.fakes.call_flow import twiml_of
from tests.fakes.sms_hub import ACCOUNT_SID
from tests.fakes.voice_hub import (
    ALICE_PHONE,
    API_KEY_SECRET,
    API_KEY_SID,
    BROWSER_PHONE,
    TWIML_APP_SID,
    VoiceScene,
    voice_hub,
)
from tests.functional.test_voice import enqueue


@pytest.fixture
async def scene(tmp_path: Path) -> Any:
    async with voice_hub(tmp_path, **BROWSER_PHONE) as s:
        yield s


async def signed_in(scene: VoiceScene, email: str, role: Role = Role.AGENT) -> tuple[int, str]:
    user_id = await scene.running.add_user(email, email.split("@")[0].title(), role)
    return user_id, await scene.running.sign_in(email)


async def test_browser_phone_token_has_the_agents_identity_and_a_voice_grant(
    scene: VoiceScene, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    alice, token = await signed_in(scene, "alice@example.com")
    status, device = await scene.running.get("/api/v1/voice/device", token)
    assert status == 200, device
    assert device == {
        "calls": True,
        "device": "phone",  # until the agent chooses
        "phone": ALICE_PHONE,
        "browser_available": True,
        "browser_problem": None,
    }
    status, chosen = await scene.running.send(
        "PUT", "/api/v1/voice/device", token, {"device": "browser"}
    )
    assert status == 200, chosen
    assert chosen["device"] == "browser"

    async with aiohttp.ClientSession(cookies={"hub_session": token}) as http:
        resp = await http.get(f"{scene.running.base}/api/v1/voice/token")
        assert resp.status == 200, await resp.text()
        assert resp.headers["Cache-Control"] == "no-store"
        body = await resp.json()
    claims = jwt.decode(body["token"], API_KEY_SECRET, algorithms=["HS256"])
    assert (claims["iss"], claims["sub"]) == (API_KEY_SID, ACCOUNT_SID)
    assert claims["grants"]["identity"] == f"agent-{alice}" == body["identity"]
    voice = claims["grants"]["voice"]
    assert voice["incoming"] == {"allow": True}
    assert voice["outgoing"] == {"application_sid": TWIML_APP_SID}
    assert claims["exp"] - claims["nbf"] == 600 == body["ttl_s"]  # browser_token_ttl_s
    # Neither the API key secret nor the token is ever logged.
    assert API_KEY_SECRET not in caplog.text
    assert body["token"] not in caplog.text

    # The choice is kept on the server: a new session finds it.
    status, again = await scene.running.get(
        "/api/v1/voice/device", await scene.running.sign_in("alice@example.com")
    )
    assert (status, again["device"]) == (200, "browser")


async def test_browser_phone_token_refused_to_whom_it_does_not_belong(
    scene: VoiceScene,
) -> None:
    _, admin = await signed_in(scene, "root@example.com", Role.ADMIN)
    _, bob = await signed_in(scene, "bob@example.com")
    status, body = await scene.running.get("/api/v1/voice/token")
    assert (status, body["error"]["code"]) == (401, "unauthorised")
    status, body = await scene.running.get("/api/v1/voice/token", admin)
    assert (status, body["error"]["code"]) == (403, "forbidden")  # admins take no calls
    status, body = await scene.running.get("/api/v1/voice/token", bob)
    assert (status, body["error"]["code"]) == (409, "conflict")
    assert body["error"]["message"] == "you take calls on your phone; choose the browser first"
    status, body = await scene.running.send("PUT", "/api/v1/voice/device", bob, {"device": "fax"})
    assert (status, body["error"]["message"]) == (400, "device must be one of: phone, browser")


async def test_browser_phone_not_set_up_is_said_clearly(tmp_path: Path) -> None:
    async with voice_hub(tmp_path) as s:  # no API key, no TwiML App
        _, token = await signed_in(s, "alice@example.com")
        status, device = await s.running.get("/api/v1/voice/device", token)
        assert (status, device["browser_available"]) == (200, False)
        status, body = await s.running.send(
            "PUT", "/api/v1/voice/device", token, {"device": "browser"}
        )
        assert (status, body["error"]["code"]) == (503, "unavailable")
        message = body["error"]["message"]
        for needed in ("TWILIO_API_KEY_SID", "TWILIO_API_KEY_SECRET", "twilio.twiml_app_sid"):
            assert needed in message
        status, body = await s.running.get("/api/v1/voice/token", token)
        assert (status, body["error"]["code"]) == (503, "unavailable")
        # The console page keeps its strict policy: no Twilio hosts.
        async with aiohttp.ClientSession(cookies={"hub_session": token}) as http:
            resp = await http.get(f"{s.running.base}/console")
            assert "twilio.com" not in resp.headers["Content-Security-Policy"]


async def test_browser_phone_opens_the_console_policy_to_twilio_only(scene: VoiceScene) -> None:
    _, token = await signed_in(scene, "alice@example.com")
    async with aiohttp.ClientSession(cookies={"hub_session": token}) as http:
        console = await http.get(f"{scene.running.base}/console")
        policy = console.headers["Content-Security-Policy"]
        assert "connect-src 'self' wss://*.twilio.com https://*.twilio.com;" in policy
        assert "media-src 'self' https://sdk.twilio.com;" in policy
        assert "script-src 'self';" in policy  # the SDK is ours to serve, no inline code
        login = await http.get(f"{scene.running.base}/login")
        assert "twilio.com" not in login.headers["Content-Security-Policy"]
        sdk = await http.get(f"{scene.running.base}/static/vendor/twilio.min.js")
        assert sdk.status == 200
        assert "Twilio.Device" in await sdk.text()


async def test_browser_agent_is_rung_in_the_browser(scene: VoiceScene) -> None:
    agent = await scene.agent()
    token = await scene.running.sign_in("alice@example.com")
    status, _ = await scene.running.send(
        "PUT", "/api/v1/voice/device", token, {"device": "browser"}
    )
    assert status == 200
    flow = scene.call()
    interaction_id = await enqueue(flow, "1")
    offer = await agent.next("offer")
    ack = await agent.call("accept", {"interaction_id": offer["interaction_id"]})
    assert ack["work"]["voice"]["stage"] == "ringing"
    leg = await scene.agent_leg(flow, 1)
    found = await scene.running.hub.store.user_by_email("alice@example.com")
    assert found is not None
    assert leg.placed["To"] == f"client:agent-{found[0].user_id}"  # not ALICE_PHONE
    assert leg.conference.text == f"interaction-{interaction_id}"
    await leg.answer()  # the agent clicked Answer in the console
    assigned = await agent.next("assigned")
    assert assigned["interaction_id"] == interaction_id
    [moved] = await scene.api.wait_for(1, f"/Calls/{flow.sid}.json")
    conference = twiml_of(moved.form["Twiml"]).find(".//Dial/Conference")
    assert conference is not None and conference.text == f"interaction-{interaction_id}"
