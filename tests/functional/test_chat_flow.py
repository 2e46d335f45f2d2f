"""The whole web-chat path on a real hub: visitor and agents as Socket.IO clients, then REST."""

from __future__ import annotations

from pathlib import Path

from hub.app import utc_now
from hub.lifecycle import Action
from hub.model import Role
from hub.storage.sql import SqlStore, make_engine
from tests.functional.conftest import Client, Running, connect, serve, settings_for


async def agent(running: Running, email: str, name: str) -> Client:
    await running.add_user(email, name)
    token = await running.sign_in(email)
    client = await connect(running.base, "/agent", token=token)
    hello = await client.next("hello")
    assert hello["agent"]["name"] == name
    return client


async def available(client: Client) -> None:
    ack = await client.call("set_state", {"state": "available"})
    assert ack["ok"] and ack["state"] == "available", ack


async def visitor(running: Running, token: str | None = None) -> tuple[Client, dict]:
    client = await connect(running.base, "/chat", auth={"token": token})
    return client, await client.next("session")


async def test_chat_flow_offer_decline_reoffer_accept_talk_close_and_record(
    tmp_path: Path,
) -> None:
    async with serve(settings_for(tmp_path, wrap_up_s=300)) as running:
        await _whole_flow(running)


async def _whole_flow(hub_server: Running) -> None:
    alice = await agent(hub_server, "alice@example.com", "Alice Agent")
    bob = await agent(hub_server, "bob@example.com", "Bob Agent")
    await available(alice)  # alice has waited longest, so she is offered first
    await available(bob)

    carol, session = await visitor(hub_server)
    assert session["conversation_id"] is None and session["token"]
    ack = await carol.call("profile", {"name": "Carol Customer", "email": "carol@example.com"})
    assert ack["ok"], ack
    ack = await carol.call("message", {"body": "Hello, my order #42 is late"})
    assert ack["ok"] and ack["message"]["body"] == "Hello, my order #42 is late"
    conversation_id = ack["conversation_id"]

    offer = await alice.next("offer")
    assert offer["customer"]["name"] == "Carol Customer"
    assert offer["preview"] == "Hello, my order #42 is late"
    assert offer["channel"] == "webchat" and offer["queue"] == "support"
    assert offer["timeout_s"] == 20
    assert (await carol.next("queue_position"))["position"] == 1

    assert (await alice.call("decline", {"interaction_id": offer["interaction_id"]}))["ok"]
    assert (await alice.next("offer_withdrawn"))["reason"] == "declined"
    reoffer = await bob.next("offer")
    assert reoffer["interaction_id"] == offer["interaction_id"]
    assert alice.pending("offer") == []  # the decliner is not offered it again

    ack = await bob.call("accept", {"interaction_id": offer["interaction_id"]})
    assert ack["ok"], ack
    assert ack["work"]["state"] == "assigned"
    assert [m["body"] for m in ack["work"]["messages"]] == ["Hello, my order #42 is late"]
    joined = await carol.next("agent_joined")
    assert joined["agent_name"] == "Bob Agent"

    iid = offer["interaction_id"]
    ack = await bob.call("send_message", {"interaction_id": iid, "body": "Sorry! Checking now."})
    assert ack["ok"], ack
    got = await carol.next("message")
    assert got["message"]["body"] == "Sorry! Checking now."
    assert got["message"]["author_name"] == "Bob Agent"

    assert (await carol.call("typing", {"typing": True}))["ok"]
    assert (await bob.next("typing")) == {"interaction_id": iid, "typing": True}
    assert (await bob.call("typing", {"interaction_id": iid, "typing": True}))["ok"]
    assert (await carol.next("typing"))["agent_name"] == "Bob Agent"

    assert (await carol.call("message", {"body": "Thanks <b>Bob</b>"}))["ok"]
    incoming = await bob.wait_for("message", lambda m: m["message"]["direction"] == "in")
    assert incoming["message"]["body"] == "Thanks <b>Bob</b>"

    # A reload resumes the same conversation with its history and agent.
    await carol.close()
    carol, resumed = await visitor(hub_server, session["token"])
    assert resumed["visitor_id"] == session["visitor_id"]
    assert resumed["conversation_id"] == conversation_id
    assert resumed["agent_name"] == "Bob Agent" and resumed["state"] == "assigned"
    assert [m["body"] for m in resumed["messages"]] == [
        "Hello, my order #42 is late",
        "Sorry! Checking now.",
        "Thanks <b>Bob</b>",
    ]

    note = await bob.call("add_note", {"interaction_id": iid, "body": "Courier delayed"})
    assert note["ok"] and note["note"]["author_name"] == "Bob Agent"
    closed = await bob.call("close", {"interaction_id": iid})
    assert closed["ok"] and closed["work"]["state"] == "wrap_up"
    assert (await carol.next("conversation_closed"))["by"] == "agent"
    assert closed["work"]["wrap_up_until"] is not None
    assert (await bob.call("end_wrap_up", {"interaction_id": iid}))["ok"]
    ended = await bob.wait_for("interaction_updated", lambda u: u.get("state") == "ended")
    assert ended["interaction_id"] == iid

    token = await hub_server.sign_in("bob@example.com")
    status, me = await hub_server.get("/api/v1/me", token)
    assert status == 200 and me["user"]["role"] == "agent"
    status, listing = await hub_server.get(
        "/api/v1/interactions?state=ended&channel=webchat", token
    )
    assert status == 200 and [i["interaction_id"] for i in listing["interactions"]] == [iid]
    customer_id = listing["interactions"][0]["customer_id"]
    status, record = await hub_server.get(f"/api/v1/customers/{customer_id}", token)
    assert status == 200, record
    assert record["name"] == "Carol Customer"
    assert {(i["kind"], i["value"]) for i in record["identities"]} == {
        ("webchat", session["visitor_id"]),
        ("email", "carol@example.com"),
    }
    [interaction] = record["interactions"]
    assert interaction["state"] == "ended" and interaction["agent_name"] == "Bob Agent"
    assert [s["step"] for s in interaction["steps"]] == [
        "queued",
        "offered",
        "declined",
        "offered",
        "assigned",
        "closed_by_agent",
        "ended",
    ]
    for when in ("queued_at", "offered_at", "assigned_at", "wrap_up_at", "ended_at"):
        assert interaction[when] is not None, when
    assert [m["direction"] for m in interaction["messages"]] == ["in", "out", "in"]
    assert [n["body"] for n in record["notes"]] == ["Courier delayed"]

    # Writing again after the close starts a new conversation and a new interaction.
    ack = await carol.call("message", {"body": "One more thing"})
    assert ack["ok"] and ack["conversation_id"] != conversation_id
    for client in (alice, bob, carol):
        await client.close()


async def test_offer_expiry_goes_to_the_next_agent(tmp_path: Path) -> None:
    async with serve(settings_for(tmp_path, offer_timeout_s=0.5)) as running:
        alice = await agent(running, "alice@example.com", "Alice Agent")
        bob = await agent(running, "bob@example.com", "Bob Agent")
        await available(alice)
        await available(bob)
        carol, _ = await visitor(running)
        assert (await carol.call("message", {"body": "anyone there?"}))["ok"]
        offer = await alice.next("offer")
        withdrawn = await alice.next("offer_withdrawn", timeout=3)
        assert withdrawn == {"interaction_id": offer["interaction_id"], "reason": "expired"}
        again = await bob.next("offer", timeout=3)
        assert again["interaction_id"] == offer["interaction_id"]
        late = await alice.call("accept", {"interaction_id": offer["interaction_id"]})
        assert late["error"]["code"] == "conflict"
        assert (await bob.call("accept", {"interaction_id": offer["interaction_id"]}))["ok"]
        for client in (alice, bob, carol):
            await client.close()


async def test_agent_disconnect_requeues_the_offer(hub_server: Running) -> None:
    alice = await agent(hub_server, "alice@example.com", "Alice Agent")
    bob = await agent(hub_server, "bob@example.com", "Bob Agent")
    await available(alice)
    await available(bob)
    carol, _ = await visitor(hub_server)
    assert (await carol.call("message", {"body": "hi"}))["ok"]
    offer = await alice.next("offer")
    await alice.close()
    again = await bob.next("offer")
    assert again["interaction_id"] == offer["interaction_id"]
    await bob.close()
    await carol.close()


async def test_chat_waits_until_an_agent_is_available_and_backlog_drains(
    hub_server: Running,
) -> None:
    carol, _ = await visitor(hub_server)
    assert (await carol.call("message", {"body": "first"}))["ok"]
    dave, _ = await visitor(hub_server)
    assert (await dave.call("message", {"body": "second"}))["ok"]
    assert (await dave.next("queue_position"))["position"] == 2

    await hub_server.add_user("sue@example.com", "Sue Supervisor", Role.SUPERVISOR)
    sup = await connect(
        hub_server.base, "/supervisor", token=await hub_server.sign_in("sue@example.com")
    )
    snap = await sup.next("snapshot")
    [support] = [q for q in snap["queues"] if q["name"] == "support"]
    assert support["waiting"] == 2 and support["oldest_queued_at"] is not None

    alice = await agent(hub_server, "alice@example.com", "Alice Agent")
    await available(alice)
    first = await alice.next("offer")
    second = await alice.next("offer")
    assert (first["preview"], second["preview"]) == ("first", "second")
    snap = await sup.wait_for(
        "snapshot",
        lambda s: any(
            a["name"] == "Alice Agent" and a["load"]["webchat"] == 2 for a in s["agents"]
        ),
    )
    [alice_row] = [a for a in snap["agents"] if a["name"] == "Alice Agent"]
    assert alice_row["state"] == "available" and alice_row["capacity"]["webchat"] == 3
    assert [q["offered"] for q in snap["queues"] if q["name"] == "support"] == [2]
    for client in (alice, carol, dave, sup):
        await client.close()


async def test_waiting_and_offered_chats_survive_a_restart(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    async with serve(settings) as running:
        alice = await agent(running, "alice@example.com", "Alice Agent")
        await available(alice)
        carol, session = await visitor(running)
        assert (await carol.call("message", {"body": "are you there?"}))["ok"]
        offered = await alice.next("offer")  # in flight when the hub stops
        dave, _ = await visitor(running)
        assert (await dave.call("message", {"body": "me too"}))["ok"]
        for client in (alice, carol, dave):
            await client.close()
        alice_id = await running.hub.store.user_by_email("alice@example.com")
        assert alice_id is not None
        offered_agent = alice_id[0].user_id
    # As if the hub had died with an offer in flight:
    store = SqlStore(make_engine(settings.database.url))
    await store.transition(
        offered["interaction_id"], Action.OFFER, now=utc_now(), agent_id=offered_agent
    )
    await store.close()
    async with serve(settings) as running:  # same database, new process state
        token = await running.sign_in("alice@example.com")
        alice = await connect(running.base, "/agent", token=token)
        await alice.next("hello")
        await available(alice)
        first = await alice.next("offer")
        second = await alice.next("offer")
        assert {first["interaction_id"], second["interaction_id"]} > {offered["interaction_id"]}
        assert [first["preview"], second["preview"]] == ["are you there?", "me too"]
        carol, resumed = await visitor(running, session["token"])
        assert [m["body"] for m in resumed["messages"]] == ["are you there?"]
        status, listing = await running.get("/api/v1/interactions?state=offered", token)
        assert status == 200 and len(listing["interactions"]) == 2
        [restarted] = [
            i for i in listing["interactions"] if i["interaction_id"] == offered["interaction_id"]
        ]
        assert "requeued_on_restart" in [step["step"] for step in restarted["steps"]]
        await alice.close()
        await carol.close()
