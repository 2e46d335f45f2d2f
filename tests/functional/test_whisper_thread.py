"""A supervisor's whisper is kept with the interaction: the work item an agent gets on connect
carries it among the conversation's messages by time (the supervisor's name, ``whisper:
true``), and the customer's thread never does."""

from __future__ import annotations

from hub.model import Role
from tests.functional.conftest import Running, connect


async def test_whisper_while_the_agent_was_away_is_in_their_work_item(
    hub_server: Running,
) -> None:
    hub = hub_server
    await hub.add_user("alice@example.com", "Alice Agent")
    await hub.add_user("sam@example.com", "Sam Supervisor", Role.SUPERVISOR)
    alice_token = await hub.sign_in("alice@example.com")
    alice = await connect(hub.base, "/agent", token=alice_token)
    await alice.next("hello")
    assert (await alice.call("set_state", {"state": "available"}))["ok"]
    visitor = await connect(hub.base, "/chat", auth={})
    session = await visitor.next("session")
    assert (await visitor.call("message", {"body": "where is my parcel?"}))["ok"]
    offer = await alice.next("offer")
    assert (await alice.call("accept", {"interaction_id": offer["interaction_id"]}))["ok"]
    await alice.close()

    sam = await connect(hub.base, "/supervisor", token=await hub.sign_in("sam@example.com"))
    ack = await sam.call(
        "whisper", {"interaction_id": offer["interaction_id"], "body": "Offer a refund"}
    )
    assert ack["ok"], ack
    assert (await visitor.call("message", {"body": "hello?"}))["ok"]

    alice = await connect(hub.base, "/agent", token=alice_token)
    (item,) = (await alice.next("hello"))["work"]
    lines = [(m["body"], m["author_name"], m.get("whisper", False)) for m in item["messages"]]
    assert lines[-3:] == [
        ("where is my parcel?", lines[-3][1], False),
        ("Offer a refund", "Sam Supervisor", True),
        ("hello?", lines[-1][1], False),
    ]
    (whispered,) = [m for m in item["messages"] if m.get("whisper")]
    assert whispered["note_id"] == ack["whisper"]["note_id"]
    assert whispered["message_id"] is None and whispered["author_kind"] == "system"

    # The customer's own thread, resumed, has no whisper.
    resumed = await connect(hub.base, "/chat", auth={"token": session["token"]})
    assert "Offer a refund" not in str((await resumed.next("session"))["messages"])
    for client in (alice, sam, visitor, resumed):
        await client.close()
