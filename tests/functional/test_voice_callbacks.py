"""A queue's maximum wait for callers (a callback offered, or a voicemail taken, keeping the
interaction's place and age) and callbacks that the customer does not answer (tried again,
then given up), on a real hub with Twilio's side played by signed webhooks."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime
from pathlib import Path

from hub.config import VoiceSettings
from hub.storage import tables as t
from tests.fakes.call_flow import CallFlow, twiml_of
from tests.fakes.voice_hub import CALLER, VoiceScene, voice_hub
from tests.functional.test_voice import count, enqueue

DEFAULTS = VoiceSettings()


def max_wait(action: str) -> dict[str, dict[str, object]]:
    return {"sales": {"max_wait_s": 0.2, "on_max_wait": action}}


async def wait_too_long(
    scene: VoiceScene,
) -> tuple[CallFlow, int, datetime, ET.Element]:
    """A caller waits in sales past its max wait: the call, its interaction, when it was
    queued, and the TwiML the hub then gave the call by REST (the call's update)."""
    flow = scene.call()
    interaction_id = await enqueue(flow, "1")
    queued_at = await scene.queued_at(interaction_id)
    [moved] = await scene.api.wait_for(1, f"/Calls/{flow.sid}.json")
    return flow, interaction_id, queued_at, twiml_of(moved.form["Twiml"])


async def test_voice_max_wait_offers_a_callback_that_keeps_place_and_age(tmp_path: Path) -> None:
    async with voice_hub(tmp_path, queues=max_wait("callback")) as s:
        flow, interaction_id, queued_at, root = await wait_too_long(s)
        assert [child.tag for child in root] == ["Gather", "Redirect"]
        gather = root.find("Gather")
        assert gather is not None and gather.attrib["numDigits"] == "1"
        assert gather.attrib["action"].endswith("/twilio/voice/callback?then=queue")
        said = gather.find("Say")
        assert said is not None and said.text == DEFAULTS.max_wait_callback
        redirect = root.find("Redirect")
        assert redirect is not None

        # Staying on the line (no key): back in the queue, the same interaction.
        stay = await flow.follow((redirect.text or "").strip())
        assert stay.verbs == ["Enqueue"]
        assert flow.enqueue.text == f"interaction-{interaction_id}"
        # Pressing 1 (on a second hearing of the offer): a callback.
        thanks = await flow.follow(gather.attrib["action"], Digits="1")
        assert thanks.verbs == ["Say", "Hangup"]
        await flow.status("completed", duration_s=30)

        interaction = await s.running.hub.store.interaction(interaction_id)
        assert (interaction.state.value, interaction.queued_at) == ("queued", queued_at)
        steps = [step for step, _ in await s.steps(interaction_id)]
        assert "max_wait_callback" in steps and "callback_requested" in steps
        agent = await s.agent()
        offer = await agent.next("offer")
        assert offer["interaction_id"] == interaction_id
        ack = await agent.call("accept", {"interaction_id": interaction_id})
        assert ack["work"]["voice"]["stage"] == "callback_ringing"


async def test_voice_max_wait_takes_a_voicemail_on_the_same_interaction(tmp_path: Path) -> None:
    async with voice_hub(tmp_path, queues=max_wait("voicemail")) as s:
        flow, interaction_id, queued_at, root = await wait_too_long(s)
        assert [child.tag for child in root] == ["Say", "Record"]
        said = root.find("Say")
        assert said is not None and said.text == DEFAULTS.max_wait_voicemail
        url = "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE7"
        done = await flow.leave_voicemail(url, 12, record=root.find("Record"))
        assert done.verbs == ["Say", "Hangup"]
        await flow.status("completed", duration_s=40)  # not an abandon: a message was left

        assert await count(s, t.interactions) == 1
        interaction = await s.running.hub.store.interaction(interaction_id)
        assert (interaction.state.value, interaction.queued_at) == ("queued", queued_at)
        messages = await s.running.hub.store.messages(interaction.conversation_id)
        assert messages[-1].body == f"Voicemail (12 s): {url}"
        agent = await s.agent()
        offer = await agent.next("offer")
        assert offer["interaction_id"] == interaction_id
        ack = await agent.call("accept", {"interaction_id": interaction_id})
        voice = ack["work"]["voice"]
        assert (voice["stage"], voice["recording_url"], voice["recording_s"]) == (
            "voicemail_left",
            url,
            12,
        )


async def test_voice_unanswered_callback_is_retried_then_given_up(tmp_path: Path) -> None:
    async with voice_hub(tmp_path, callback_attempts=2, callback_retry_s=0) as s:
        flow = s.call()
        interaction_id = await enqueue(flow, "1")
        wait = await flow.poll_wait(flow.enqueue)
        await flow.press_while_waiting(wait, "1")
        await flow.hang_up_waiting(flow.enqueue)
        agent = await s.agent()
        await agent.next("offer")
        await agent.call("accept", {"interaction_id": interaction_id})
        leg = await s.agent_leg(flow, 1)
        await leg.answer()
        await agent.next("assigned")

        first = await s.agent_leg(flow, 2)  # the customer, called back
        assert first.placed["To"] == CALLER
        await first.ring_out("no-answer")
        await s.running.hub.voice.idle()  # type: ignore[union-attr]
        second = await s.agent_leg(flow, 3)  # tried again, the agent still on the line
        assert second.placed["To"] == CALLER
        retrying = await agent.wait_for(
            "interaction_updated", lambda d: (d.get("voice") or {}).get("callback_retrying")
        )
        assert retrying["voice"]["callback_attempts"] == 1
        await first.status("no-answer")  # a late repeat about the first try changes nothing
        await second.ring_out("busy")

        failed = await agent.wait_for(
            "interaction_updated",
            lambda d: (d.get("voice") or {}).get("stage") == "callback_failed",
        )
        assert failed["state"] == "wrap_up"
        [hung] = await s.api.wait_for(1, f"/Calls/{leg.sid}.json")
        assert hung.form["Status"] == "completed"  # the agent's phone is let go
        assert len(s.api.placed_calls) == 3  # no third try
        steps = [step for step, _ in await s.steps(interaction_id)]
        assert steps.index("callback_attempt_1_no_answer") < steps.index("callback_attempt_2_busy")
        assert steps[-2:] == ["callback_failed", "closed_by_agent"]
