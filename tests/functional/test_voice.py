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
from tests.fakes.call_flow import CallFlow, twiml_of
from tests.fakes.voice_hub import (
    ALICE_PHONE,
    CALLER,
    HOLD_MUSIC,
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


async def test_voice_webhook_without_valid_signature_is_refused(scene: VoiceScene) -> None:
    flow = scene.call()
    for signature in (None, "bad-signature"):
        assert (await flow.dial(signature=signature)).status == 403
        status = await flow.post(
            scene.twilio.public_url + "/twilio/voice/status",
            {"CallSid": flow.sid, "CallStatus": "completed"},
            signature=signature,
        )
        assert status.status == 403
    # Signed for another URL (a proxy that rewrote the path): refused too.
    wrong = await flow.dial(signed_url=scene.twilio.public_url + "/twilio/sms")
    assert wrong.status == 403
    assert await count(scene, t.voice_calls) == 0


# ---------------------------------------------------------------------- waiting
async def test_voice_wait_announces_our_position_as_the_queue_moves(scene: VoiceScene) -> None:
    first, second = scene.call(), scene.call("+14155550124")
    await enqueue(first, "1")
    await enqueue(second, "1")
    wait = await second.poll_wait(second.enqueue)
    # Our engine's position, not Twilio's QueuePosition (99 in the form).
    assert wait.first("Say").text == "You are number 2 in the queue."
    assert wait.first("Play").text == HOLD_MUSIC
    gather = wait.first("Gather")  # callback_after_s: 0, so offered at once
    assert gather.attrib["numDigits"] == "1"
    assert "press 1" in " ".join(s.text or "" for s in gather.iter("Say"))

    await first.hang_up_waiting(first.enqueue)
    moved = await second.poll_wait(second.enqueue)
    assert moved.first("Say").text == "You are next in line."


async def test_voice_no_callback_offer_before_the_configured_wait(tmp_path: Path) -> None:
    async with voice_hub(tmp_path, callback_after_s=600) as s:
        flow = s.call()
        await enqueue(flow, "1")
        wait = await flow.poll_wait(flow.enqueue)
        assert wait.verbs == ["Say", "Play"]


async def test_voice_hanging_up_while_waiting_abandons_and_counts(scene: VoiceScene) -> None:
    flow = scene.call()
    interaction_id = await enqueue(flow, "2", "1")
    await flow.hang_up_waiting(flow.enqueue)
    interaction = await scene.running.hub.store.interaction(interaction_id)
    assert interaction.state.value == "abandoned"
    assert scene.running.hub.router.position(interaction_id) is None
    [calls] = [q for q in scene.running.hub.router.snapshot().queues if q.name == "calls"]
    assert (calls.waiting, calls.abandoned_today) == (0, 1)
    # A retried status callback changes nothing.
    await flow.status("completed", duration_s=40)
    [calls] = [q for q in scene.running.hub.router.snapshot().queues if q.name == "calls"]
    assert calls.abandoned_today == 1


async def test_voice_callback_request_keeps_its_place_and_age(scene: VoiceScene) -> None:
    first, second = scene.call(), scene.call("+14155550124")
    first_id = await enqueue(first, "1")
    second_id = await enqueue(second, "1")
    queued_at = await scene.queued_at(first_id)
    wait = await first.poll_wait(first.enqueue)
    thanks = await first.press_while_waiting(wait, "1")
    assert thanks.verbs == ["Say", "Hangup"]
    assert thanks.spoken == "Thank you. We will call you back. Goodbye."
    await first.hang_up_waiting(first.enqueue)  # Twilio reports the hang-up that follows

    interaction = await scene.running.hub.store.interaction(first_id)
    assert interaction.state.value == "queued"  # not abandoned: a callback now
    assert interaction.queued_at == queued_at
    assert scene.running.hub.router.position(first_id) == 1
    assert scene.running.hub.router.position(second_id) == 2
    [record] = await scene.running.hub.store.interactions(customer_id=interaction.customer_id)
    assert "callback_requested" in [step.step for step in record.steps]
    messages = await scene.running.hub.store.messages(interaction.conversation_id)
    assert messages[-1].body == f"Callback requested to {CALLER}"

    agent = await scene.agent()
    offer = await agent.next("offer")
    assert offer["interaction_id"] == first_id  # the callback is served first
    ack = await agent.call("accept", {"interaction_id": first_id})
    assert ack["work"]["voice"]["stage"] == "callback_ringing"
    leg = await scene.agent_leg(first, 1)
    assert leg.placed["To"] == ALICE_PHONE
    await leg.answer()
    # The agent answered: the hub calls the customer into the same conference.
    await scene.api.wait_for(2, "/Calls.json")
    customer = scene.api.placed_calls[1]
    assert (customer["To"], customer["From"]) == (CALLER, VOICE_NUMBER)
    conference = twiml_of(customer["Twiml"]).find(".//Dial/Conference")
    assert conference is not None and conference.text == f"interaction-{first_id}"
    assigned = await agent.next("assigned")
    assert assigned["interaction_id"] == first_id


# ---------------------------------------------------------------------- connecting
async def connect_call(
    scene: VoiceScene, agent: Any, flow: CallFlow, interaction_id: int, *, placed: int = 1
) -> Any:
    """The agent accepts the offer and answers their phone (the ``placed``-th call the hub
    placed); that leg."""
    offer = await agent.next("offer")
    assert offer["interaction_id"] == interaction_id
    ack = await agent.call("accept", {"interaction_id": interaction_id})
    assert ack["work"]["state"] == "offered"  # accepted only when the phone is answered
    assert ack["work"]["voice"]["stage"] in ("ringing", "transfer_ringing")
    leg = await scene.agent_leg(flow, placed)
    await leg.answer()
    assigned = await agent.next("assigned")
    assert assigned["interaction_id"] == interaction_id
    return leg


async def test_voice_accept_bridges_caller_and_agent_and_records_the_call(
    scene: VoiceScene,
) -> None:
    agent = await scene.agent()
    flow = scene.call()
    interaction_id = await enqueue(flow, "2", "1")  # queue "calls" records its calls
    name = f"interaction-{interaction_id}"
    leg = await connect_call(scene, agent, flow, interaction_id)

    placed = leg.placed
    assert (placed["To"], placed["From"]) == (ALICE_PHONE, VOICE_NUMBER)
    assert int(placed["Timeout"]) <= 20
    assert "/twilio/voice/agent?" in placed["StatusCallback"]
    assert leg.conference.text == name
    assert leg.conference.attrib["record"] == "record-from-start"
    assert leg.conference.attrib["endConferenceOnExit"] == "true"
    [moved] = scene.api.calls_to(f"/Calls/{flow.sid}.json")  # the caller, into the room
    conference = twiml_of(moved.form["Twiml"]).find(".//Dial/Conference")
    assert conference is not None and conference.text == name

    conference_sid = "CF" + "a" * 32
    await leg.conference_event("conference-start", conference_sid)
    await leg.conference_event("participant-join", conference_sid, leg.sid)
    await leg.conference_event("participant-join", conference_sid, flow.sid)
    # The caller hangs up first; Twilio reports it every way it knows.
    await leg.conference_event("participant-leave", conference_sid, flow.sid)
    await leg.conference_event("conference-end", conference_sid)
    await flow.status("completed", duration_s=95)
    await leg.status("completed", duration_s=90)
    recording = "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE9"
    answer = await flow.post(
        leg.conference.attrib["recordingStatusCallback"], flow.recording_form(recording, 88)
    )
    assert answer.status == 204

    updated = await agent.wait_for("interaction_updated", lambda d: d["state"] == "wrap_up")
    assert updated["interaction_id"] == interaction_id
    interaction = await scene.running.hub.store.interaction(interaction_id)
    assert (interaction.state.value, interaction.closed_by) == ("wrap_up", "customer")
    call = await scene.running.hub.desk.work_item(interaction)
    voice = call["voice"]
    assert voice["stage"] == "ended"
    assert voice["hung_up_by"] == "customer"
    assert voice["ring_s"] is not None and voice["ring_s"] >= 0
    assert voice["talk_s"] is not None and voice["talk_s"] >= 0
    assert (voice["recording_url"], voice["recording_s"]) == (recording, 88)
    # The call's timeline is on the customer's record, each step with its time.
    status, record = await scene.running.get(
        f"/api/v1/customers/{interaction.customer_id}",
        await scene.running.sign_in("alice@example.com"),
    )
    assert status == 200, record
    [history] = record["interactions"]
    steps = [step["step"] for step in history["steps"]]
    for step in ("offered", "call_answered", "call_ended_by_customer", "call_recorded"):
        assert step in steps, steps


async def test_voice_agent_no_answer_puts_the_caller_back_at_the_front(tmp_path: Path) -> None:
    async with voice_hub(tmp_path, routing={"no_answer_delay_s": 600}) as s:
        agent = await s.agent()
        first, second = s.call(), s.call("+14155550124")
        first_id = await enqueue(first, "1")
        second_id = await enqueue(second, "1")
        offer = await agent.next("offer")
        assert offer["interaction_id"] == first_id
        await agent.call("accept", {"interaction_id": first_id})
        leg = await s.agent_leg(first, 1)
        await leg.ring_out("no-answer")

        withdrawn = await agent.next("offer_withdrawn")
        assert withdrawn == {"interaction_id": first_id, "reason": "no_answer"}
        router = s.running.hub.router
        assert (router.position(first_id), router.position(second_id)) == (1, 2)
        interaction = await s.running.hub.store.interaction(first_id)
        assert interaction.state.value == "queued"
        [record] = await s.running.hub.store.interactions(customer_id=interaction.customer_id)
        assert "no_answer" in [step.step for step in record.steps]  # a missed offer
        wait = await first.poll_wait(first.enqueue)
        assert wait.first("Say").text == "You are next in line."
        assert s.api.calls_to(f"/Calls/{first.sid}.json") == []  # the caller never moved


async def test_voice_agent_busy_puts_the_caller_back_without_a_miss(scene: VoiceScene) -> None:
    agent = await scene.agent()
    flow = scene.call()
    interaction_id = await enqueue(flow, "1")
    await agent.next("offer")
    await agent.call("accept", {"interaction_id": interaction_id})
    leg = await scene.agent_leg(flow, 1)
    await leg.ring_out("busy")
    withdrawn = await agent.next("offer_withdrawn")
    assert withdrawn == {"interaction_id": interaction_id, "reason": "busy"}
    # busy_delay_s is 0 here: offered again at once, and no missed offer is counted.
    again = await agent.next("offer")
    assert again["interaction_id"] == interaction_id
    interaction = await scene.running.hub.store.interaction(interaction_id)
    [record] = await scene.running.hub.store.interactions(customer_id=interaction.customer_id)
    assert "no_answer" not in [step.step for step in record.steps]


# ---------------------------------------------------------------------- in the call
async def test_voice_agent_holds_mutes_and_hangs_up_through_the_rest_api(
    scene: VoiceScene,
) -> None:
    agent = await scene.agent()
    flow = scene.call()
    interaction_id = await enqueue(flow, "1")
    leg = await connect_call(scene, agent, flow, interaction_id)
    conference_sid = "CF" + "b" * 32
    await leg.conference_event("conference-start", conference_sid)
    participants = f"/Conferences/{conference_sid}/Participants"

    held = await agent.call("call_control", {"interaction_id": interaction_id, "action": "hold"})
    assert held["voice"]["held"] is True
    [hold] = scene.api.calls_to(f"{participants}/{flow.sid}.json")
    assert (hold.form["Hold"], hold.form["HoldUrl"]) == ("true", HOLD_MUSIC)
    resumed = await agent.call(
        "call_control", {"interaction_id": interaction_id, "action": "resume"}
    )
    assert resumed["voice"]["held"] is False
    assert scene.api.calls_to(f"{participants}/{flow.sid}.json")[-1].form["Hold"] == "false"
    muted = await agent.call("call_control", {"interaction_id": interaction_id, "action": "mute"})
    assert muted["voice"]["muted"] is True
    [mute] = scene.api.calls_to(f"{participants}/{leg.sid}.json")
    assert mute.form["Muted"] == "true"
    bad = await agent.call("call_control", {"interaction_id": interaction_id, "action": "dance"})
    assert bad["error"]["code"] == "invalid_input"

    hung = await agent.call("call_control", {"interaction_id": interaction_id, "action": "hangup"})
    assert hung["voice"]["hung_up_by"] == "agent"
    assert scene.api.calls_to(f"/Calls/{flow.sid}.json")[-1].form["Status"] == "completed"
    interaction = await scene.running.hub.store.interaction(interaction_id)
    assert (interaction.state.value, interaction.closed_by) == ("wrap_up", "agent")
    # Twilio's callbacks about the end that follow change nothing.
    await leg.conference_event("conference-end", conference_sid)
    await flow.status("completed", duration_s=30)
    assert (await scene.running.hub.store.interaction(interaction_id)).closed_by == "agent"
    interaction = await scene.running.hub.store.interaction(interaction_id)
    [record] = await scene.running.hub.store.interactions(customer_id=interaction.customer_id)
    steps = [step.step for step in record.steps]
    assert steps.count("call_held") == 1 and steps.count("call_resumed") == 1
    assert steps.count("call_ended_by_agent") == 1


async def test_voice_closing_a_live_call_in_the_console_hangs_up(scene: VoiceScene) -> None:
    agent = await scene.agent()
    flow = scene.call()
    interaction_id = await enqueue(flow, "1")
    await connect_call(scene, agent, flow, interaction_id)
    ack = await agent.call("close", {"interaction_id": interaction_id})
    assert ack["work"]["state"] == "wrap_up"
    ended = await scene.api.wait_for(2, f"/Calls/{flow.sid}.json")
    assert ended[-1].form["Status"] == "completed"
    voice = (
        await scene.running.hub.desk.work_item(
            await scene.running.hub.store.interaction(interaction_id)
        )
    )["voice"]
    assert (voice["stage"], voice["hung_up_by"]) == ("ended", "agent")
