"""The console's work tools over the /agent socket and REST: wrap-up with dispositions,
canned responses in hello, transfer notes, and each user's language."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hub.model import Role
from tests.fakes.console_hub import console_hub
from tests.functional.conftest import Client, Running, connect


async def agent(running: Running, email: str, name: str) -> tuple[Client, dict[str, Any]]:
    await running.add_user(email, name)
    client = await connect(running.base, "/agent", token=await running.sign_in(email))
    hello = await client.next("hello")
    return client, hello


async def chat_taken_by(running: Running, client: Client, text: str) -> tuple[Client, int]:
    """A visitor writes; ``client`` (available) is offered the chat and accepts it."""
    assert (await client.call("set_state", {"state": "available"}))["ok"]
    visitor = await connect(running.base, "/chat", auth={})
    await visitor.next("session")
    assert (await visitor.call("profile", {"name": "Carol Customer"}))["ok"]
    assert (await visitor.call("message", {"body": text}))["ok"]
    offer = await client.next("offer")
    ack = await client.call("accept", {"interaction_id": offer["interaction_id"]})
    assert ack["ok"], ack
    return visitor, offer["interaction_id"]


async def test_ready_is_refused_until_a_required_disposition_is_chosen(tmp_path: Path) -> None:
    async with console_hub(tmp_path) as running:
        alice, _ = await agent(running, "alice@example.com", "Alice Agent")
        visitor, iid = await chat_taken_by(running, alice, "my parcel is lost")
        closed = await alice.call("close", {"interaction_id": iid})
        assert closed["ok"] and closed["work"]["state"] == "wrap_up"
        assert closed["work"]["wrap_up"] == {
            "dispositions": ["resolved", "follow_up", "no_answer"],
            "required": True,
            "disposition": None,
            "note": None,
        }

        refused = await alice.call("end_wrap_up", {"interaction_id": iid})
        assert refused["error"]["code"] == "invalid_input"
        assert "requires" in refused["error"]["message"]
        assert "disposition" in refused["error"]["message"]
        bad = await alice.call("save_wrap_up", {"interaction_id": iid, "disposition": "sold"})
        assert bad["error"]["code"] == "invalid_input"
        assert "resolved, follow_up, no_answer" in bad["error"]["message"]
        too_long = await alice.call(
            "save_wrap_up", {"interaction_id": iid, "disposition": "resolved", "note": "x" * 5000}
        )
        assert (
            too_long["error"]["code"] == "invalid_input" and "note" in too_long["error"]["message"]
        )

        saved = await alice.call(
            "save_wrap_up",
            {"interaction_id": iid, "disposition": "follow_up", "note": "Courier to call back"},
        )
        assert saved["ok"] and saved["wrap_up"]["disposition"] == "follow_up"
        # The choice is kept: a reconnecting console gets it back with the work item.
        again = await connect(
            running.base, "/agent", token=await running.sign_in("alice@example.com")
        )
        kept = (await again.next("hello"))["work"][0]["wrap_up"]
        assert (kept["disposition"], kept["note"]) == ("follow_up", "Courier to call back")
        await again.close()

        assert (await alice.call("end_wrap_up", {"interaction_id": iid}))["ok"]
        await alice.wait_for("interaction_updated", lambda u: u.get("state") == "ended")

        token = await running.sign_in("alice@example.com")
        status, listing = await running.get("/api/v1/interactions?state=ended", token)
        assert status == 200
        customer_id = listing["interactions"][0]["customer_id"]
        status, record = await running.get(f"/api/v1/customers/{customer_id}", token)
        assert status == 200
        past = record["interactions"][0]
        assert (past["disposition"], past["wrap_up_note"]) == ("follow_up", "Courier to call back")
        assert "wrap_up_saved" in [s["step"] for s in past["steps"]]
        await visitor.close()
        await alice.close()


async def test_ready_with_the_disposition_in_the_same_event_and_queue_codes(
    tmp_path: Path,
) -> None:
    async with console_hub(tmp_path) as running:
        alice, _ = await agent(running, "alice@example.com", "Alice Agent")
        bob, _ = await agent(running, "bob@example.com", "Bob Agent")
        visitor, iid = await chat_taken_by(running, alice, "I would like to buy")
        # Moved to sales, where the codes are the queue's own and none is required.
        assert (await alice.call("transfer", {"interaction_id": iid, "queue": "sales"}))["ok"]
        assert (await bob.call("set_state", {"state": "available"}))["ok"]
        offer = await bob.next("offer")
        work = (await bob.call("accept", {"interaction_id": offer["interaction_id"]}))["work"]
        assert work["wrap_up"]["dispositions"] == ["sold", "not_interested"]
        assert work["wrap_up"]["required"] is False

        # Only the holder may save an outcome.
        theirs = await alice.call("save_wrap_up", {"interaction_id": iid, "disposition": "sold"})
        assert theirs["error"]["code"] == "forbidden"

        assert (await bob.call("close", {"interaction_id": iid}))["ok"]
        ready = await bob.call("end_wrap_up", {"interaction_id": iid, "disposition": "sold"})
        assert ready["ok"], ready
        await bob.wait_for("interaction_updated", lambda u: u.get("state") == "ended")
        late = await bob.call("save_wrap_up", {"interaction_id": iid, "disposition": "sold"})
        assert late["error"]["code"] == "conflict"
        for client in (visitor, alice, bob):
            await client.close()


async def test_transfer_note_reaches_the_receiving_agent(tmp_path: Path) -> None:
    async with console_hub(tmp_path) as running:
        alice, _ = await agent(running, "alice@example.com", "Alice Agent")
        bob, _ = await agent(running, "bob@example.com", "Bob Agent")
        visitor, iid = await chat_taken_by(running, alice, "billing question")

        long_note = {"interaction_id": iid, "queue": "sales", "note": "x" * 3000}
        refused = await alice.call("transfer", long_note)
        assert refused["error"]["code"] == "invalid_input" and "note" in refused["error"]["message"]
        assert alice.pending("interaction_updated") == []  # nothing moved

        assert (await bob.call("set_state", {"state": "available"}))["ok"]
        bob_user = await running.hub.store.user_by_email("bob@example.com")
        assert bob_user is not None
        note = "Wants a refund of <b>€20</b>; order 42"
        ack = await alice.call(
            "transfer",
            {"interaction_id": iid, "agent_id": bob_user[0].user_id, "note": note},
        )
        assert ack["ok"], ack
        offer = await bob.next("offer")
        assert offer["transfer_note"] == {"author_name": "Alice Agent", "body": note}
        # A console that connects now sees the same card.
        late = await connect(running.base, "/agent", token=await running.sign_in("bob@example.com"))
        assert (await late.next("hello"))["offers"][0]["transfer_note"]["body"] == note
        await late.close()
        work = (await bob.call("accept", {"interaction_id": iid}))["work"]
        assert [(n["author_name"], n["body"], n["kind"]) for n in work["transfer_notes"]] == [
            ("Alice Agent", note, "transfer")
        ]
        # The customer never sees it.
        history = [m["message"]["body"] for m in visitor.pending("message")]
        assert note not in history
        for client in (visitor, alice, bob):
            await client.close()


async def test_hello_serves_canned_responses_and_the_agents_language(tmp_path: Path) -> None:
    async with console_hub(tmp_path) as running:
        alice, hello = await agent(running, "alice@example.com", "Alice Agent")
        shortcuts = [(c["shortcut"], c["language"]) for c in hello["canned_responses"]]
        assert shortcuts == [("hello", None), ("bye", None), ("hello", "zh-CN"), ("refund", None)]
        refund = hello["canned_responses"][3]
        assert refund["channels"] == ["email"]
        assert hello["agent"]["language"] is None
        await alice.close()


async def put_language(running: Running, token: str | None, body: Any) -> tuple[int, Any]:
    return await running.send("PUT", "/api/v1/me/language", token, json=body)


async def test_language_is_saved_per_user(tmp_path: Path) -> None:
    async with console_hub(tmp_path) as running:
        await running.add_user("alice@example.com", "Alice Agent")
        await running.add_user("sam@example.com", "Sam Supervisor", Role.SUPERVISOR)
        token = await running.sign_in("alice@example.com")

        status, body = await put_language(running, None, {"language": "zh-CN"})
        assert status == 401
        for bad in ({"language": "fr"}, {}, {"language": 7}):
            status, body = await put_language(running, token, bad)
            assert status == 400 and body["error"]["code"] == "invalid_input", bad
            assert "en, zh-CN" in body["error"]["message"]

        status, body = await put_language(running, token, {"language": "zh-CN"})
        assert status == 200 and body["user"]["language"] == "zh-CN"
        status, me = await running.get("/api/v1/me", token)
        assert me["user"]["language"] == "zh-CN"
        client = await connect(running.base, "/agent", token=token)
        assert (await client.next("hello"))["agent"]["language"] == "zh-CN"
        await client.close()
        # Another user keeps theirs.
        sam = await running.sign_in("sam@example.com")
        assert (await running.get("/api/v1/me", sam))[1]["user"]["language"] is None

        status, body = await put_language(running, token, {"language": None})
        assert status == 200 and body["user"]["language"] is None
