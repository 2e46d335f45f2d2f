"""Click-to-call on a real hub: an agent calls a customer from the console; the hub rings the
agent first (phone or browser), then the customer, both into the interaction's conference,
seen by the fake Twilio API; the legs' status callbacks are played as Twilio sends them. The
call is logged on the customer's record with its ring and talk time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hub.app import utc_now
from hub.model import Channel, Identity, IdentityKind, Role
from hub.ports import InboundContact
from tests.fakes.call_flow import AgentLeg, CallFlow, twiml_of
from tests.fakes.voice_hub import ALICE_PHONE, BROWSER_PHONE, VOICE_NUMBER, VoiceScene, voice_hub
from tests.functional.conftest import Client

CUSTOMER = "+14155550142"
CALLER_ID = "+14155550100"


@pytest.fixture
async def scene(tmp_path: Path) -> Any:
    async with voice_hub(tmp_path) as s:
        yield s


async def known_customer(scene: VoiceScene, agent: Client, number: str = CUSTOMER) -> int:
    """A customer with a phone number whom the agent has worked with (a chat they closed)."""
    recorded = await scene.running.hub.inbound.receive(
        InboundContact(
            channel=Channel.WEBCHAT,
            identity=Identity(IdentityKind.PHONE, number),
            thread_key=f"chat-{number}",
            body="Please call me back",
        ),
        queue_name="support",
    )
    iid = recorded.interaction.interaction_id
    offer = await agent.next("offer")
    assert offer["interaction_id"] == iid
    assert (await agent.call("accept", {"interaction_id": iid})).get("work"), "not accepted"
    assert (await agent.call("close", {"interaction_id": iid})).get("work"), "not closed"
    await agent.wait_for("interaction_updated", lambda d: d["state"] == "ended")
    return recorded.interaction.customer_id


def leg(scene: VoiceScene, n: int) -> AgentLeg:
    """The ``n``-th call the hub placed, as Twilio's side of it."""
    return AgentLeg(CallFlow(scene.twilio, CUSTOMER, VOICE_NUMBER), scene.api.placed_calls[n - 1])


async def call(scene: VoiceScene, token: str, customer_id: int, **body: Any) -> tuple[int, Any]:
    return await scene.running.send("POST", f"/api/v1/customers/{customer_id}/call", token, body)


async def placed(scene: VoiceScene) -> tuple[Client, str, int, Any]:
    """Alice calls a customer she served: her socket, session, the customer, the work item."""
    agent = await scene.agent()
    customer_id = await known_customer(scene, agent)
    token = await scene.running.sign_in("alice@example.com")
    status, body = await call(scene, token, customer_id)
    assert status == 201, body
    return agent, token, customer_id, body["work"]


async def test_click_to_call_rings_the_agent_then_the_customer_and_logs_it(
    scene: VoiceScene,
) -> None:
    agent, token, customer_id, work = await placed(scene)
    iid = work["interaction_id"]
    assert (work["channel"], work["state"], work["voice"]["stage"]) == (
        "voice",
        "assigned",
        "dialing",
    )
    # The console's work list gets it as well.
    assigned = await agent.wait_for("assigned", lambda d: d["interaction_id"] == iid)
    assert assigned["voice"]["stage"] == "dialing"
    hub = scene.running.hub
    found = await hub.store.user_by_email("alice@example.com")
    assert found is not None
    assert hub.router.state_of(found[0].user_id).load[Channel.VOICE] == 1  # no other call now
    # The agent first, on their phone, with the number as caller ID.
    await scene.api.wait_for(1, "/Calls.json")
    agent_leg = leg(scene, 1)
    assert (agent_leg.placed["To"], agent_leg.placed["From"]) == (ALICE_PHONE, VOICE_NUMBER)
    assert agent_leg.conference.text == f"interaction-{iid}"
    assert "/twilio/voice/outbound/agent?" in agent_leg.placed["StatusCallback"]
    assert len(scene.api.placed_calls) == 1  # not the customer before the agent answers

    await agent_leg.answer()
    await scene.api.wait_for(2, "/Calls.json")
    customer_leg = leg(scene, 2)
    assert (customer_leg.placed["To"], customer_leg.placed["From"]) == (CUSTOMER, VOICE_NUMBER)
    conference = twiml_of(customer_leg.placed["Twiml"]).find(".//Dial/Conference")
    assert conference is not None and conference.text == f"interaction-{iid}"
    calling = await agent.wait_for("interaction_updated", lambda d: "voice" in d)
    assert (calling["voice"]["stage"], calling["voice"]["answered_at"]) == ("connected", None)
    await customer_leg.answer()
    talking = await agent.wait_for(
        "interaction_updated", lambda d: "voice" in d and d["voice"]["answered_at"] is not None
    )
    assert talking["interaction_id"] == iid

    # In the call: the same controls as any call.
    conference_sid = "CF" + "e" * 32
    await agent_leg.conference_event("conference-start", conference_sid)
    held = await agent.call("call_control", {"interaction_id": iid, "action": "hold"})
    assert held["voice"]["held"] is True, held
    participants = f"/Conferences/{conference_sid}/Participants"
    [hold] = scene.api.calls_to(f"{participants}/{customer_leg.sid}.json")
    assert hold.form["Hold"] == "true"
    await agent.call("call_control", {"interaction_id": iid, "action": "resume"})

    await agent_leg.conference_event("participant-leave", conference_sid, customer_leg.sid)
    await customer_leg.status("completed", duration_s=42)
    updated = await agent.wait_for("interaction_updated", lambda d: d["state"] == "wrap_up")
    assert updated["interaction_id"] == iid
    interaction = await hub.store.interaction(iid)
    assert (interaction.state.value, interaction.closed_by, interaction.customer_id) == (
        "wrap_up",
        "customer",
        customer_id,
    )
    voice = (await hub.desk.work_item(interaction))["voice"]
    assert (voice["stage"], voice["hung_up_by"]) == ("ended", "customer")
    assert voice["ring_s"] is not None and voice["ring_s"] >= 0  # the customer's ringing
    assert voice["talk_s"] is not None and voice["talk_s"] >= 0
    assert voice["customer_number"] == CUSTOMER

    status, record = await scene.running.get(f"/api/v1/customers/{customer_id}", token)
    assert status == 200, record
    [logged] = [i for i in record["interactions"] if i["interaction_id"] == iid]
    steps = [s["step"] for s in logged["steps"]]
    for step in ("outbound_call", "call_agent_answered", "call_answered", "call_held"):
        assert step in steps, steps
    assert "call_ended_by_customer" in steps
    assert "offered" not in steps and "queued" not in steps  # nobody else was offered it
    messages = await hub.store.messages(interaction.conversation_id)
    assert [(m.direction.value, m.body) for m in messages] == [
        ("out", f"Phone call to {CUSTOMER} from {VOICE_NUMBER}")
    ]


async def test_click_to_call_from_the_browser_uses_the_configured_caller_id(
    tmp_path: Path,
) -> None:
    async with voice_hub(tmp_path, caller_id=CALLER_ID, **BROWSER_PHONE) as s:
        agent = await s.agent()
        customer_id = await known_customer(s, agent)
        token = await s.running.sign_in("alice@example.com")
        status, _ = await s.running.send(
            "PUT", "/api/v1/voice/device", token, {"device": "browser"}
        )
        assert status == 200
        status, body = await call(s, token, customer_id, number=CUSTOMER)
        assert status == 201, body
        await s.api.wait_for(1, "/Calls.json")
        found = await s.running.hub.store.user_by_email("alice@example.com")
        assert found is not None
        agent_leg = leg(s, 1)
        assert agent_leg.placed["To"] == f"client:agent-{found[0].user_id}"
        assert agent_leg.placed["From"] == CALLER_ID
        await agent_leg.answer()
        await s.api.wait_for(2, "/Calls.json")
        assert (leg(s, 2).placed["To"], leg(s, 2).placed["From"]) == (CUSTOMER, CALLER_ID)


async def test_click_to_call_customer_not_answering_frees_the_agent(scene: VoiceScene) -> None:
    _, _, customer_id, work = await placed(scene)
    iid = work["interaction_id"]
    await scene.api.wait_for(1, "/Calls.json")
    agent_leg = leg(scene, 1)
    await agent_leg.answer()
    await scene.api.wait_for(2, "/Calls.json")
    await leg(scene, 2).ring_out("no-answer")
    # The agent, alone in the conference, is hung up; the call ends in wrap-up.
    [hung] = await scene.api.wait_for(1, f"/Calls/{agent_leg.sid}.json")
    assert hung.form["Status"] == "completed"
    interaction = await scene.running.hub.store.interaction(iid)
    assert (interaction.state.value, interaction.closed_by) == ("wrap_up", "customer")
    voice = (await scene.running.hub.desk.work_item(interaction))["voice"]
    assert (voice["stage"], voice["talk_s"]) == ("ended", None)
    [record] = await scene.running.hub.store.interactions(
        customer_id=customer_id, channel=Channel.VOICE
    )
    assert "call_unanswered" in [s.step for s in record.steps]


async def test_click_to_call_agent_not_answering_never_calls_the_customer(
    scene: VoiceScene,
) -> None:
    agent, _, customer_id, work = await placed(scene)
    iid = work["interaction_id"]
    await scene.api.wait_for(1, "/Calls.json")
    await leg(scene, 1).ring_out("no-answer")
    updated = await agent.wait_for("interaction_updated", lambda d: d["state"] == "wrap_up")
    assert updated["interaction_id"] == iid
    assert len(scene.api.placed_calls) == 1
    [record] = await scene.running.hub.store.interactions(
        customer_id=customer_id, channel=Channel.VOICE
    )
    assert "call_agent_no-answer" in [s.step for s in record.steps]


async def test_click_to_call_refusals_say_why(scene: VoiceScene) -> None:
    agent = await scene.agent()
    customer_id = await known_customer(scene, agent)
    token = await scene.running.sign_in("alice@example.com")
    hub = scene.running.hub
    # A customer without a phone number (a chat visitor the agent served).
    chat = await hub.inbound.receive(
        InboundContact(
            channel=Channel.WEBCHAT,
            identity=Identity(IdentityKind.WEBCHAT, "visitor-1"),
            thread_key="chat-visitor-1",
            body="Hi",
        ),
        queue_name="support",
    )
    await agent.next("offer")
    await agent.call("accept", {"interaction_id": chat.interaction.interaction_id})
    status, body = await call(scene, token, chat.interaction.customer_id)
    assert (status, body["error"]["message"]) == (400, "this customer has no phone number to call")
    await agent.call("close", {"interaction_id": chat.interaction.interaction_id})

    status, body = await call(scene, token, customer_id, number="+14155550999")
    assert status == 400 and "is not one of this customer's numbers" in body["error"]["message"]

    # Someone the agent never worked with, and a role that takes no calls.
    stranger = (
        await hub.store.identify(
            Identity(IdentityKind.PHONE, "+14155550188"), name=None, email=None, now=utc_now()
        )
    ).customer_id
    status, body = await call(scene, token, stranger)
    assert (status, body["error"]["code"]) == (403, "forbidden")
    await scene.running.add_user("root@example.com", "Root", Role.ADMIN)
    admin = await scene.running.sign_in("root@example.com")
    status, body = await call(scene, admin, customer_id)
    assert (status, body["error"]["code"]) == (403, "forbidden")

    # On a call already: the second one is refused.
    status, body = await call(scene, token, customer_id)
    assert status == 201, body
    status, body = await call(scene, token, customer_id)
    assert (status, body["error"]["code"]) == (409, "conflict")
    assert body["error"]["message"] == "you are on another call; end it before calling a customer"
    assert len(await scene.api.wait_for(1, "/Calls.json")) == 1


async def test_click_to_call_without_twilio_is_refused(hub_server: Any) -> None:
    await hub_server.add_user("alice@example.com", "Alice")
    token = await hub_server.sign_in("alice@example.com")
    status, body = await hub_server.send("POST", "/api/v1/customers/1/call", token, {})
    assert (status, body["error"]["code"]) == (503, "unavailable")
    assert body["error"]["message"].startswith("phone calls are not set up on this hub")
    status, body = await hub_server.get("/api/v1/voice/token", token)
    assert (status, body["error"]["code"]) == (503, "unavailable")
    # The console asks where the agent takes calls: a fact, not an error, on such a hub.
    status, body = await hub_server.get("/api/v1/voice/device", token)
    assert (status, body["calls"], body["device"]) == (200, False, None)


async def test_browser_placing_a_call_itself_is_told_to_use_the_console(
    scene: VoiceScene,
) -> None:
    flow = scene.call()
    answer = await flow.post(
        scene.twilio.public_url + "/twilio/voice/client",
        {"AccountSid": scene.twilio.account_sid, "CallSid": flow.sid, "From": "client:agent-1"},
    )
    assert answer.status == 200
    root = twiml_of(answer.text)
    assert [child.tag for child in root] == ["Say", "Hangup"]
    unsigned = await flow.post(
        scene.twilio.public_url + "/twilio/voice/client", {"CallSid": flow.sid}, signature=None
    )
    assert unsigned.status == 403


async def test_click_to_call_closed_in_the_console_while_ringing_stops_ringing(
    scene: VoiceScene,
) -> None:
    agent, _, _, work = await placed(scene)
    iid = work["interaction_id"]
    await scene.api.wait_for(1, "/Calls.json")
    agent_leg = leg(scene, 1)
    closed = await agent.call("close", {"interaction_id": iid})
    assert closed["work"]["state"] == "wrap_up", closed
    [stopped] = await scene.api.wait_for(1, f"/Calls/{agent_leg.sid}.json")
    assert stopped.form["Status"] == "canceled"  # the agent's phone stops ringing
    voice = (
        await scene.running.hub.desk.work_item(await scene.running.hub.store.interaction(iid))
    )["voice"]
    assert (voice["stage"], voice["hung_up_by"]) == ("ended", "agent")
    # Answering too late: the agent's phone is hung up, the customer never called.
    await agent_leg.answer()
    hung = await scene.api.wait_for(2, f"/Calls/{agent_leg.sid}.json")
    assert hung[-1].form["Status"] == "completed"
    assert len(scene.api.placed_calls) == 1
