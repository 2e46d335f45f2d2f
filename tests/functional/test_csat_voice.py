"""The satisfaction survey on the phone: after the agent hangs up, a caller still on the line
is asked to rate 1 to 5 on the keypad (signed webhooks, the fake Twilio API)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.call_flow import CallFlow, twiml_of
from tests.fakes.voice_hub import VoiceScene, voice_hub
from tests.functional.test_voice import connect_call, enqueue

CSAT = {"calls": {"csat": {"enabled": True, "channels": ["voice"]}}}
CONFERENCE = "CF" + "b" * 32


@pytest.fixture
async def scene(tmp_path: Path) -> AsyncIterator[VoiceScene]:
    async with voice_hub(tmp_path, queues=CSAT) as s:
        yield s


async def connected(scene: VoiceScene) -> tuple[Any, CallFlow, int, Any, Any]:
    """Alice talks with a caller of queue "calls": (agent, flow, interaction, leg, dial)."""
    agent = await scene.agent()
    flow = scene.call()
    iid = await enqueue(flow, "2", "1")
    leg = await connect_call(scene, agent, flow, iid)
    [moved] = scene.api.calls_to(f"/Calls/{flow.sid}.json")  # the caller, into the room
    dial = twiml_of(moved.form["Twiml"]).find(".//Dial")
    assert dial is not None
    await leg.conference_event("conference-start", CONFERENCE)
    await leg.conference_event("participant-join", CONFERENCE, leg.sid)
    await leg.conference_event("participant-join", CONFERENCE, flow.sid)
    return agent, flow, iid, leg, dial


async def rating(scene: VoiceScene, iid: int) -> Any:
    token = await scene.running.sign_in("alice@example.com")
    _, listing = await scene.running.get("/api/v1/interactions?channel=voice", token)
    return {i["interaction_id"]: i["rating"] for i in listing["interactions"]}[iid]


async def test_csat_voice_agent_hangs_up_and_caller_rates_on_the_keypad(
    scene: VoiceScene,
) -> None:
    agent, flow, iid, leg, dial = await connected(scene)
    assert "/twilio/voice/survey?" in dial.attrib["action"]
    # The agent hangs up: their leg leaves, the conference ends, the caller's <Dial> is
    # over and Twilio asks its action what the caller hears next.
    await leg.conference_event("participant-leave", CONFERENCE, leg.sid)
    await leg.conference_event("conference-end", CONFERENCE)
    asked = await flow.follow(dial.attrib["action"], DialCallStatus="completed")
    gather = asked.first("Gather")
    assert gather.attrib["numDigits"] == "1"
    assert "Press 1 for very poor, up to 5 for excellent." in asked.spoken
    await leg.status("completed", duration_s=60)

    again = await flow.press("9")
    assert again.spoken.startswith("Sorry, please press a key from 1 to 5.")
    done = await flow.press("4")
    assert done.verbs == ["Say", "Hangup"] and done.spoken == "Thank you for your rating. Goodbye."
    shown = await agent.wait_for("interaction_rated", lambda d: d["interaction_id"] == iid)
    assert shown["rating"]["score"] == 4
    rated = await rating(scene, iid)
    assert (rated["score"], rated["channel"]) == (4, "voice")
    interaction = await scene.running.hub.store.interaction(iid)
    assert interaction.closed_by == "agent"


async def test_csat_voice_caller_who_hung_up_first_is_not_asked(scene: VoiceScene) -> None:
    _, flow, iid, leg, dial = await connected(scene)
    await leg.conference_event("participant-leave", CONFERENCE, flow.sid)
    await leg.conference_event("conference-end", CONFERENCE)
    after = await flow.follow(dial.attrib["action"], CallStatus="completed")
    assert after.verbs == ["Hangup"]
    assert await rating(scene, iid) is None


async def test_csat_voice_closing_in_the_console_moves_the_caller_to_the_prompt(
    scene: VoiceScene,
) -> None:
    agent, flow, iid, _, _ = await connected(scene)
    assert (await agent.call("close", {"interaction_id": iid}))["ok"]
    updates = await scene.api.wait_for(2, f"/Calls/{flow.sid}.json")
    prompt = twiml_of(updates[-1].form["Twiml"])
    gather = prompt.find(".//Gather")
    assert gather is not None
    flow.last = None
    answer = await flow.post(gather.attrib["action"], flow.form(Digits="2"))
    assert "Thank you for your rating." in answer.text
    assert (await rating(scene, iid))["score"] == 2


async def test_csat_voice_rating_only_from_the_callers_own_leg(scene: VoiceScene) -> None:
    _, flow, iid, leg, dial = await connected(scene)
    await leg.conference_event("participant-leave", CONFERENCE, leg.sid)
    await leg.conference_event("conference-end", CONFERENCE)
    asked = await flow.follow(dial.attrib["action"])
    action = asked.first("Gather").attrib["action"]
    stranger = scene.call()
    answer = await stranger.post(action, stranger.form(Digits="1"))
    assert twiml_of(answer.text).find("Hangup") is not None
    assert await rating(scene, iid) is None


async def test_csat_voice_disabled_queue_ends_the_call_with_the_conference(
    tmp_path: Path,
) -> None:
    async with voice_hub(tmp_path) as scene:
        _, _, _, _, dial = await connected(scene)
        assert "action" not in dial.attrib
