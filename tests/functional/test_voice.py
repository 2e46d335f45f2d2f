"""Phone calls through Twilio on a real hub: ``CallFlow`` plays Twilio's voice engine with
signed webhooks, the hub's real SDK client talks to a local fake Twilio API, and agents are
Socket.IO clients. TwiML is parsed as XML; assertions are what a caller or an agent would
notice (what is said, who is rung, where the call waits, what the agent is offered)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from hub.storage import tables as t
from tests.fakes.call_flow import CallFlow
from tests.fakes.voice_hub import (
    VOICE_NUMBER,
    VoiceScene,
    voice_hub,
)


@pytest.fixture
async def scene(tmp_path: Path) -> Any:
    async with voice_hub(tmp_path) as s:
        yield s


async def count(scene: VoiceScene, table: Any) -> int:
    async with scene.running.hub.store.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


async def enqueue(flow: CallFlow, *keys: str) -> int:
    """Ring, choose ``keys`` in the menu; the interaction id the caller waits on."""
    await flow.ring()
    for key in keys:
        await flow.press(key)
    assert flow.last is not None and flow.last.verbs == ["Enqueue"], flow.last.verbs
    name = flow.enqueue.text or ""
    assert name.startswith("interaction-")
    return int(name.removeprefix("interaction-"))


# ---------------------------------------------------------------------- answering
async def test_voice_out_of_hours_takes_a_voicemail_routed_to_agents(tmp_path: Path) -> None:
    async with voice_hub(
        tmp_path, closed=True, out_of_hours="We are closed, leave a message."
    ) as s:
        agent = await s.agent()
        flow = s.call()
        answer = await flow.ring()
        assert answer.verbs == ["Say", "Record"]
        assert answer.spoken == "We are closed, leave a message."
        record = answer.first("Record")
        assert record.attrib["maxLength"] == "120"
        assert record.attrib["recordingStatusCallback"].endswith(
            "/twilio/voice/recording?kind=voicemail"
        )
        assert agent.pending("offer") == []  # nothing to do until there is a message

        url = "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1"
        done = await flow.leave_voicemail(url, 17)
        assert done.verbs == ["Say", "Hangup"]
        offer = await agent.next("offer")
        assert offer["channel"] == "voice"
        assert offer["queue"] == "calls"
        assert url in offer["preview"]
        # The recording callback delivered again makes no second voicemail.
        again = await flow.post(
            record.attrib["recordingStatusCallback"], flow.recording_form(url, 17)
        )
        assert again.status == 204
        assert await count(s, t.interactions) == 1
        ack = await agent.call("accept", {"interaction_id": offer["interaction_id"]})
        assert ack["work"]["voice"]["recording_url"] == url
        assert ack["work"]["voice"]["recording_s"] == 17
        assert ack["work"]["voice"]["stage"] == "voicemail_left"


async def test_voice_in_hours_greets_with_the_menu(scene: VoiceScene) -> None:
    answer = await scene.call().ring()
    assert answer.verbs == ["Say", "Gather", "Redirect"]
    say = answer.first("Say")
    assert (say.text, say.attrib["voice"], say.attrib["language"]) == (
        "Welcome to Example Corp.",
        "Polly.Amy",
        "en-GB",
    )
    gather = answer.first("Gather")
    assert gather.attrib["input"] == "dtmf speech"
    assert gather.attrib["numDigits"] == "1"
    assert gather.attrib["timeout"] == "4"
    assert gather.attrib["language"] == "en-GB"
    spoken = " ".join(s.text or "" for s in gather.iter("Say"))
    assert spoken == "Please choose. For sales, press 1. For support, press 2."


@pytest.mark.parametrize(
    ("choices", "queue", "ivr", "language"),
    [
        (["1"], "sales", "1", "en-GB"),
        (["2", "1"], "calls", "2.1", "en-GB"),
        (["2", "2"], "calls", "2.2", "es"),
    ],
)
async def test_voice_menu_branch_queues_the_call(
    scene: VoiceScene, choices: list[str], queue: str, ivr: str, language: str
) -> None:
    agent = await scene.agent()
    interaction_id = await enqueue(scene.call(), *choices)
    offer = await agent.next("offer")
    assert (offer["interaction_id"], offer["channel"], offer["queue"]) == (
        interaction_id,
        "voice",
        queue,
    )
    interaction = await scene.running.hub.store.interaction(interaction_id)
    assert interaction.attributes["ivr"] == ivr  # what routing rules see
    assert interaction.attributes["language"] == language
    assert interaction.attributes["address"] == VOICE_NUMBER


async def test_voice_menu_understands_speech(scene: VoiceScene) -> None:
    flow = scene.call()
    await flow.ring()
    sub = await flow.speak("I need some help please")
    assert "For billing, press 1." in sub.spoken  # the support menu
    assert sub.verbs == ["Gather", "Redirect"]  # no greeting the second time


async def test_voice_menu_retries_then_falls_back_to_the_numbers_queue(
    scene: VoiceScene,
) -> None:
    flow = scene.call()
    await flow.ring()
    invalid = await flow.press("7")
    assert invalid.verbs == ["Say", "Gather", "Redirect"]
    assert invalid.spoken.startswith("Sorry, that is not one of the choices.")
    assert "For sales, press 1." in invalid.spoken  # the menu again
    # Silence on the last try: out of retries (1), the call waits in the number's queue.
    final = await flow.silence()
    assert final.verbs == ["Enqueue"]
    interaction_id = int((flow.enqueue.text or "").removeprefix("interaction-"))
    interaction = await scene.running.hub.store.interaction(interaction_id)
    assert (interaction.queue, interaction.attributes["ivr"]) == ("calls", "")


async def test_voice_menu_no_input_is_asked_again(scene: VoiceScene) -> None:
    flow = scene.call()
    await flow.ring()
    again = await flow.silence()
    assert again.spoken.startswith("Sorry, I did not hear a choice.")
    assert (await flow.press("1")).verbs == ["Enqueue"]


async def test_voice_duplicate_webhooks_are_idempotent(scene: VoiceScene) -> None:
    agent = await scene.agent()
    flow = scene.call()
    first = await flow.ring()
    again = await flow.ring()  # Twilio retried the incoming call
    assert again.verbs == first.verbs
    assert await count(scene, t.voice_calls) == 1
    gather = flow.last
    await flow.press("1")
    flow.last = gather
    await flow.press("1")  # the same menu answer delivered twice
    assert flow.last is not None and flow.last.verbs == ["Enqueue"]
    assert await count(scene, t.interactions) == 1
    assert await count(scene, t.messages) == 1
    await agent.next("offer")
    assert agent.pending("offer") == []


@pytest.mark.parametrize("signature", [None, "bad-signature"])
async def test_voice_webhook_without_valid_signature_is_refused(
    scene: VoiceScene, signature: str | None
) -> None:
    flow = scene.call()
    answer = await flow.dial(signature=signature)
    assert answer.status == 403
    status = await flow.post(
        scene.twilio.public_url + "/twilio/voice/status",
        {"CallSid": flow.sid, "CallStatus": "completed"},
        signature=signature,
    )
    assert status.status == 403
    assert await count(scene, t.voice_calls) == 0
