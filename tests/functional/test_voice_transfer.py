"""Transfers of a live call, cold and warm (with a consultation), and a supervisor listening
or whispering, on a real hub: Twilio's side is played with signed webhooks, and what the hub
asked of Twilio is read from the fake REST API (conference participants added, held,
re-roled, removed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hub.errors import Forbidden
from tests.fakes.call_flow import AgentLeg, CallFlow
from tests.fakes.voice_hub import (
    BOB_PHONE,
    CAROL_PHONE,
    HOLD_MUSIC,
    VOICE_NUMBER,
    VoiceScene,
    voice_hub,
)
from tests.functional.test_voice import connect_call, enqueue

CONFERENCE = "CF" + "e" * 32
PARTICIPANTS = f"/Conferences/{CONFERENCE}/Participants"


@pytest.fixture
async def scene(tmp_path: Path) -> Any:
    async with voice_hub(tmp_path) as s:
        yield s


async def on_the_call(scene: VoiceScene) -> tuple[Any, CallFlow, int, AgentLeg]:
    """Alice is talking with a caller in a started conference."""
    alice = await scene.agent()
    flow = scene.call()
    interaction_id = await enqueue(flow, "1")
    leg = await connect_call(scene, alice, flow, interaction_id)
    await leg.conference_event("conference-start", CONFERENCE)
    await leg.conference_event("participant-join", CONFERENCE, leg.sid)
    await leg.conference_event("participant-join", CONFERENCE, flow.sid)
    return alice, flow, interaction_id, leg


def participant_updates(scene: VoiceScene, call_sid: str) -> list[dict[str, str]]:
    return [c.form for c in scene.api.calls_to(f"{PARTICIPANTS}/{call_sid}.json")]


def removed(scene: VoiceScene, call_sid: str) -> bool:
    return bool(scene.api.calls_to(f"{PARTICIPANTS}/{call_sid}.json", method="DELETE"))


async def agent_id(scene: VoiceScene, email: str) -> int:
    found = await scene.running.hub.store.user_by_email(email)
    assert found is not None
    return found[0].user_id


# ---------------------------------------------------------------------- cold transfer
@pytest.mark.parametrize("to", ["queue", "agent"])
async def test_voice_cold_transfer_keeps_the_caller_on_hold_until_the_next_agent_answers(
    scene: VoiceScene, to: str
) -> None:
    alice, flow, interaction_id, leg = await on_the_call(scene)
    bob = await scene.agent("bob@example.com", "Bob")
    target = (
        {"queue": "calls"}
        if to == "queue"
        else {"agent_id": await agent_id(scene, "bob@example.com")}
    )
    ack = await alice.call("transfer", {"interaction_id": interaction_id, **target})
    assert ack.get("ok"), ack
    await scene.running.hub.voice.idle()  # type: ignore[union-attr]

    # The caller stays in the conference, on hold with the music; never sent back to <Enqueue>.
    [hold] = participant_updates(scene, flow.sid)
    assert (hold["Hold"], hold["HoldUrl"]) == ("true", HOLD_MUSIC)
    assert scene.api.calls_to(f"/Calls/{flow.sid}.json")[1:] == []  # only the first move in
    # Alice's leg leaves without ending the conference.
    assert participant_updates(scene, leg.sid) == [{"EndConferenceOnExit": "false"}]
    assert removed(scene, leg.sid)
    await leg.conference_event("participant-leave", CONFERENCE, leg.sid)
    await leg.status("completed", duration_s=30)
    interaction = await scene.running.hub.store.interaction(interaction_id)
    queue = "calls" if to == "queue" else "sales"  # the caller chose sales in the menu
    assert (interaction.queue, interaction.state.value) == (queue, "offered")  # to Bob
    assert (await scene.running.hub.desk.work_item(interaction))["voice"]["held"] is True

    # Bob takes it: his phone joins the same conference, and the caller comes off hold.
    bob_leg = await connect_call(scene, bob, flow, interaction_id, placed=2)
    assert bob_leg.placed["To"] == BOB_PHONE
    assert bob_leg.conference.text == f"interaction-{interaction_id}"
    await scene.running.hub.voice.idle()  # type: ignore[union-attr]
    assert participant_updates(scene, flow.sid)[-1]["Hold"] == "false"
    assert scene.api.calls_to(f"/Calls/{flow.sid}.json")[1:] == []
    interaction = await scene.running.hub.store.interaction(interaction_id)
    assert interaction.state.value == "assigned"
    assert interaction.agent_id == await agent_id(scene, "bob@example.com")
    voice = (await scene.running.hub.desk.work_item(interaction))["voice"]
    assert voice["stage"] == "connected" and voice["held"] is False
    assert voice["hold_s"] >= 0

    # The caller hangs up: the call is over with Bob, who wraps up.
    await leg.conference_event("participant-leave", CONFERENCE, flow.sid)
    interaction = await scene.running.hub.store.interaction(interaction_id)
    assert (interaction.state.value, interaction.closed_by) == ("wrap_up", "customer")
    steps = [step for step, _ in await scene.steps(interaction_id)]
    assert steps.count("call_answered") == 2


async def test_voice_caller_hanging_up_on_hold_during_a_transfer_abandons(
    scene: VoiceScene,
) -> None:
    alice, flow, interaction_id, leg = await on_the_call(scene)
    await alice.call("transfer", {"interaction_id": interaction_id, "queue": "calls"})
    await scene.running.hub.voice.idle()  # type: ignore[union-attr]
    await leg.conference_event("participant-leave", CONFERENCE, flow.sid)
    interaction = await scene.running.hub.store.interaction(interaction_id)
    assert interaction.state.value == "abandoned"
    assert scene.running.hub.router.position(interaction_id) is None


# ---------------------------------------------------------------------- warm transfer
async def consult_bob(
    scene: VoiceScene, alice: Any, flow: CallFlow, interaction_id: int
) -> tuple[Any, int]:
    bob = await scene.agent("bob@example.com", "Bob")
    bob_id = await agent_id(scene, "bob@example.com")
    ack = await alice.call(
        "call_consult", {"interaction_id": interaction_id, "action": "start", "agent_id": bob_id}
    )
    assert ack.get("ok"), ack
    voice = ack["voice"]
    assert (voice["consult_stage"], voice["consult_name"], voice["held"]) == (
        "ringing",
        "Bob",
        True,
    )
    return bob, bob_id


async def test_voice_warm_transfer_consults_a_colleague_then_hands_the_call_over(
    scene: VoiceScene,
) -> None:
    alice, flow, interaction_id, leg = await on_the_call(scene)
    bob, bob_id = await consult_bob(scene, alice, flow, interaction_id)

    # The caller waits on hold while Bob's phone is called into the conference.
    [hold] = participant_updates(scene, flow.sid)
    assert (hold["Hold"], hold["HoldUrl"]) == ("true", HOLD_MUSIC)
    consult = await scene.added_participant(flow, 1)
    form = consult.placed
    assert (form["To"], form["From"], form["Label"]) == (BOB_PHONE, VOICE_NUMBER, "consult")
    assert (form["EndConferenceOnExit"], form["Muted"]) == ("false", "false")
    assert "/twilio/voice/consult?interaction_id=" in form["StatusCallback"]
    early = await alice.call(
        "call_consult", {"interaction_id": interaction_id, "action": "complete"}
    )
    assert early["error"]["code"] == "conflict"  # Bob has not answered yet
    assert bob.pending("offer") == []  # nothing offered while they only talk

    await consult.answer()
    talking = await alice.wait_for(
        "interaction_updated", lambda d: (d.get("voice") or {}).get("consult_stage") == "talking"
    )
    assert talking["interaction_id"] == interaction_id

    done = await alice.call(
        "call_consult", {"interaction_id": interaction_id, "action": "complete"}
    )
    assert done.get("ok"), done
    gone = await alice.wait_for("interaction_updated", lambda d: d.get("state") == "transferred")
    assert gone["interaction_id"] == interaction_id
    assigned = await bob.next("assigned")
    assert assigned["interaction_id"] == interaction_id
    await scene.running.hub.voice.idle()  # type: ignore[union-attr]

    # Bob's leg now ends the call when he hangs up; Alice's leaves without ending it; the
    # caller is back, with Bob.
    assert {"EndConferenceOnExit": "true"} in participant_updates(scene, consult.sid)
    assert participant_updates(scene, leg.sid) == [{"EndConferenceOnExit": "false"}]
    assert removed(scene, leg.sid)
    assert participant_updates(scene, flow.sid)[-1]["Hold"] == "false"
    interaction = await scene.running.hub.store.interaction(interaction_id)
    assert (interaction.state.value, interaction.agent_id) == ("assigned", bob_id)
    voice = (await scene.running.hub.desk.work_item(interaction))["voice"]
    assert (voice["stage"], voice["agent_id"], voice["consult_stage"]) == (
        "connected",
        bob_id,
        None,
    )
    # Through the router: Alice is free again, Bob holds the call.
    router = scene.running.hub.router
    assert router.state_of(await agent_id(scene, "alice@example.com")).load.get("voice", 0) == 0
    assert router.state_of(bob_id).load.get("voice") == 1
    alice_id = await agent_id(scene, "alice@example.com")
    steps = await scene.steps(interaction_id)
    assert ("transfer_consult_started", bob_id) in steps
    assert ("transferred_to_agent", alice_id) in steps
    assert ("transfer_consult_completed", bob_id) in steps

    # Alice's leg leaving changes nothing; Bob hanging up ends the call.
    await leg.conference_event("participant-leave", CONFERENCE, leg.sid)
    assert (await scene.running.hub.store.interaction(interaction_id)).state.value == "assigned"
    await leg.conference_event("participant-leave", CONFERENCE, consult.sid)
    interaction = await scene.running.hub.store.interaction(interaction_id)
    assert (interaction.state.value, interaction.closed_by) == ("wrap_up", "agent")


async def test_voice_warm_transfer_cancelled_or_unanswered_brings_the_caller_back(
    scene: VoiceScene,
) -> None:
    alice, flow, interaction_id, leg = await on_the_call(scene)
    _, bob_id = await consult_bob(scene, alice, flow, interaction_id)
    consult = await scene.added_participant(flow, 1)
    await consult.answer()
    await alice.wait_for(
        "interaction_updated", lambda d: (d.get("voice") or {}).get("consult_stage") == "talking"
    )
    ack = await alice.call("call_consult", {"interaction_id": interaction_id, "action": "cancel"})
    assert ack.get("ok"), ack
    assert ack["voice"]["consult_stage"] is None and ack["voice"]["held"] is False
    await scene.running.hub.voice.idle()  # type: ignore[union-attr]
    assert removed(scene, consult.sid)
    assert participant_updates(scene, flow.sid)[-1]["Hold"] == "false"
    # Bob's leg leaving the conference does not end the caller's call.
    await leg.conference_event("participant-leave", CONFERENCE, consult.sid)

    # Again, and Bob does not answer: over by itself, the caller is back with Alice.
    again = await alice.call(
        "call_consult", {"interaction_id": interaction_id, "action": "start", "agent_id": bob_id}
    )
    assert again.get("ok"), again
    second = await scene.added_participant(flow, 2)
    await second.ring_out("no-answer")
    back = await alice.wait_for(
        "interaction_updated",
        lambda d: (
            (d.get("voice") or {}).get("consult_stage") is None
            and not (d.get("voice") or {}).get("held")
        ),
    )
    assert back["state"] == "assigned"
    interaction = await scene.running.hub.store.interaction(interaction_id)
    assert interaction.agent_id == await agent_id(scene, "alice@example.com")
    steps = await scene.steps(interaction_id)
    assert steps.count(("transfer_consult_started", bob_id)) == 2
    assert steps.count(("transfer_consult_cancelled", bob_id)) == 2
    assert "transfer_consult_completed" not in [s for s, _ in steps]


async def test_voice_warm_transfer_refuses_a_colleague_who_cannot_take_it(
    scene: VoiceScene,
) -> None:
    alice, flow, interaction_id, _ = await on_the_call(scene)
    alice_id = await agent_id(scene, "alice@example.com")
    bob_id = await scene.running.add_user("bob@example.com", "Bob")  # never signed in
    cases = [
        ({"agent_id": bob_id}, "conflict", "Bob is offline"),
        ({"agent_id": alice_id}, "invalid_input", "not yourself"),
        ({}, "invalid_input", "agent_id"),
        ({"agent_id": 9999}, "not_found", "no agent 9999"),
    ]
    for extra, code, words in cases:
        ack = await alice.call(
            "call_consult", {"interaction_id": interaction_id, "action": "start", **extra}
        )
        assert ack["error"]["code"] == code, ack
        assert words in ack["error"]["message"], ack
    # Only the agent on the call may transfer it.
    dan = await scene.agent("dan@example.com", "Dan")
    theirs = await dan.call(
        "call_consult", {"interaction_id": interaction_id, "action": "start", "agent_id": bob_id}
    )
    assert theirs["error"]["code"] == "forbidden"
    assert scene.api.calls_to("/Participants.json") == []
    assert participant_updates(scene, flow.sid) == []  # the caller was never put on hold


# ---------------------------------------------------------------------- supervisors
async def test_voice_supervisor_listens_whispers_and_stops(scene: VoiceScene) -> None:
    carol = await scene.supervisor()
    _, flow, interaction_id, leg = await on_the_call(scene)
    listed = await carol.wait_for("calls", lambda d: len(d["calls"]) == 1)
    [call] = listed["calls"]
    assert (call["interaction_id"], call["customer_number"]) == (interaction_id, flow.from_number)
    carol_id = await agent_id(scene, "carol@example.com")

    ack = await carol.call("call_monitor", {"interaction_id": interaction_id, "mode": "listen"})
    assert ack.get("ok"), ack
    assert (ack["voice"]["monitor_mode"], ack["voice"]["monitor_name"]) == ("listen", "Carol")
    monitor = await scene.added_participant(flow, 1)
    form = monitor.placed
    assert (form["To"], form["Muted"], form["Label"]) == (CAROL_PHONE, "true", "supervisor")
    assert form["EndConferenceOnExit"] == "false"
    assert "Coaching" not in form

    whisper = await carol.call(
        "call_monitor", {"interaction_id": interaction_id, "mode": "whisper"}
    )
    assert whisper["voice"]["monitor_mode"] == "whisper"
    [coach] = participant_updates(scene, monitor.sid)
    assert (coach["Coaching"], coach["CallSidToCoach"], coach["Muted"]) == (
        "true",
        leg.sid,
        "false",
    )
    # The supervisor's leg coming and going never ends the call.
    await leg.conference_event("participant-join", CONFERENCE, monitor.sid)

    stop = await carol.call("call_monitor", {"interaction_id": interaction_id, "mode": "stop"})
    assert stop["voice"]["monitor_mode"] is None
    await scene.running.hub.voice.idle()  # type: ignore[union-attr]
    assert removed(scene, monitor.sid)
    await leg.conference_event("participant-leave", CONFERENCE, monitor.sid)
    assert (await scene.running.hub.store.interaction(interaction_id)).state.value == "assigned"
    steps = await scene.steps(interaction_id)
    for step in ("call_listened", "call_whispered", "call_monitor_stopped"):
        assert (step, carol_id) in steps

    # Listening again, and Carol hangs up her phone: she is off the call.
    await carol.call("call_monitor", {"interaction_id": interaction_id, "mode": "listen"})
    again = await scene.added_participant(flow, 2)
    await again.status("completed", duration_s=5)
    voice = (
        await scene.running.hub.desk.work_item(
            await scene.running.hub.store.interaction(interaction_id)
        )
    )["voice"]
    assert voice["monitor_user_id"] is None
    bad = await carol.call("call_monitor", {"interaction_id": interaction_id, "mode": "barge"})
    assert bad["error"]["code"] == "invalid_input"


async def test_voice_monitor_is_for_supervisors_with_a_phone(scene: VoiceScene) -> None:
    _, _, interaction_id, _ = await on_the_call(scene)
    # A supervisor with no phone in config.yaml is told what to set.
    dave = await scene.supervisor("dave@example.com", "Dave")
    ack = await dave.call("call_monitor", {"interaction_id": interaction_id, "mode": "listen"})
    assert ack["error"]["code"] == "invalid_input"
    assert "agents[].phone" in ack["error"]["message"]
    # An agent cannot reach the supervisor namespace's events through the desk either.
    alice = await scene.running.hub.store.user_by_email("alice@example.com")
    assert alice is not None
    with pytest.raises(Forbidden, match="role"):
        await scene.running.hub.desk.call_monitor(
            alice[0], {"interaction_id": interaction_id, "mode": "listen"}
        )
    assert scene.api.calls_to("/Participants.json") == []


async def test_voice_live_calls_are_listed_only_for_the_queues_a_supervisor_oversees(
    scene: VoiceScene,
) -> None:
    _, _, interaction_id, _ = await on_the_call(scene)
    desk = scene.running.hub.desk
    queue = (await scene.running.hub.store.interaction(interaction_id)).queue
    everything = await desk.live_calls_within(None)
    assert [c["interaction_id"] for c in everything] == [interaction_id]
    assert await desk.live_calls_within(frozenset({queue})) == everything
    # A supervisor limited to another queue (agents[].supervises) is not shown the call.
    assert await desk.live_calls_within(frozenset({"somewhere-else"})) == []
