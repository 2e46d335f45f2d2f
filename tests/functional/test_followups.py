"""Follow-ups on a real hub: an agent schedules one on a customer they served; when it is due
it becomes a contact on the customer's chat thread, offered to its owner first, then to the
queue; a contact already under way gets it as a note; cancelling, validation, access, two
claimers and a hub that was down when it fell due."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hub.followups import FollowupState
from hub.model import Role
from hub.storage.followups import SqlFollowupStore
from hub.storage.sql import SqlStore, make_engine
from tests.functional.conftest import Client, Running, connect, serve, settings_for
from tests.functional.test_chat_flow import agent, available, visitor
from tests.functional.test_sessions import FakeClock

NOTE = "Call back about the refund <b>#42</b>"


def due_in(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat()


async def served(running: Running) -> tuple[Client, Client, Client, int, int]:
    """Alice serves Carol's chat and closes it; Bob becomes available while Alice is busy, so
    he has been idle longer than her afterwards: (alice, bob, carol, customer_id,
    interaction_id)."""
    alice = await agent(running, "alice@example.com", "Alice Agent")
    bob = await agent(running, "bob@example.com", "Bob Agent")
    await available(alice)
    carol, _ = await visitor(running)
    assert (await carol.call("message", {"body": "Where is my refund?"}))["ok"]
    offer = await alice.next("offer")
    iid = offer["interaction_id"]
    assert (await alice.call("accept", {"interaction_id": iid}))["ok"]
    await available(bob)
    assert (await alice.call("close", {"interaction_id": iid}))["ok"]
    await carol.next("conversation_closed")
    await asyncio.sleep(0.2)  # wrap-up (0 s) ends; Alice is free again
    token = await running.sign_in("alice@example.com")
    _, listing = await running.get("/api/v1/interactions?channel=webchat", token)
    return alice, bob, carol, listing["interactions"][0]["customer_id"], iid


async def schedule(
    running: Running, token: str, customer_id: int, **body: Any
) -> tuple[int, dict[str, Any]]:
    body.setdefault("note", NOTE)
    return await running.send(
        "POST", f"/api/v1/customers/{customer_id}/followups", token, json=body
    )


async def test_followup_due_is_offered_to_its_owner_first_with_the_note(tmp_path: Path) -> None:
    async with serve(settings_for(tmp_path)) as running:
        alice, bob, carol, customer_id, iid = await served(running)
        token = await running.sign_in("alice@example.com")
        status, body = await schedule(
            running, token, customer_id, due_at=due_in(1), interaction_id=iid
        )
        assert status == 201, body
        followup = body["followup"]
        assert followup["state"] == "scheduled" and followup["owner_id"] == followup["created_by"]
        assert followup["queue"] == "support" and followup["channel"] == "webchat"

        status, mine = await running.get("/api/v1/followups?state=scheduled", token)
        assert status == 200
        assert [f["followup_id"] for f in mine["followups"]] == [followup["followup_id"]]

        # Bob has idled longer, but the follow-up is Alice's: she is offered it, he is not.
        offer = await alice.next("offer", timeout=5)
        assert offer["interaction_id"] != iid
        assert offer["preview"] == f"Follow-up scheduled by Alice Agent: {NOTE}"
        assert bob.pending("offer") == []
        ack = await alice.call("accept", {"interaction_id": offer["interaction_id"]})
        assert ack["ok"], ack
        [first] = ack["work"]["messages"]
        assert first["author_kind"] == "system" and first["body"] == offer["preview"]
        # Her reply reaches Carol's chat box: the follow-up is on Carol's thread.
        ack = await alice.call(
            "send_message", {"interaction_id": offer["interaction_id"], "body": "Hi again"}
        )
        assert ack["ok"], ack
        got = await carol.wait_for("message", lambda m: m["message"]["body"] == "Hi again")
        assert got["message"]["author_name"] == "Alice Agent"

        status, listed = await running.get(f"/api/v1/customers/{customer_id}/followups", token)
        assert status == 200
        [opened] = listed["followups"]
        assert opened["state"] == "opened"
        assert opened["interaction_id"] == offer["interaction_id"]
        assert opened["became_note"] is False
        # Opened: it can no longer be cancelled.
        status, refused = await running.send(
            "DELETE", f"/api/v1/followups/{followup['followup_id']}", token
        )
        assert status == 409 and refused["error"]["code"] == "conflict"
        for client in (alice, bob, carol):
            await client.close()


async def test_followup_owner_who_does_not_take_it_in_the_window_loses_it_to_the_queue(
    tmp_path: Path,
) -> None:
    settings = settings_for(tmp_path, offer_timeout_s=1, HUB_ROUTING__FOLLOWUP_OWNER_WAIT_S="1.5")
    async with serve(settings) as running:
        alice, bob, carol, customer_id, _ = await served(running)
        token = await running.sign_in("alice@example.com")
        status, body = await schedule(running, token, customer_id, due_at=due_in(1))
        assert status == 201, body

        first = await alice.next("offer", timeout=5)
        assert bob.pending("offer") == []
        # Alice lets it ring out; once her window has passed, Bob gets it.
        offer = await bob.next("offer", timeout=6)
        assert offer["interaction_id"] == first["interaction_id"]
        assert offer["preview"].endswith(NOTE)
        for client in (alice, bob, carol):
            await client.close()


async def test_followup_on_a_thread_with_a_contact_under_way_becomes_a_note_on_it(
    tmp_path: Path,
) -> None:
    async with serve(settings_for(tmp_path)) as running:
        alice, bob, carol, customer_id, _ = await served(running)
        token = await running.sign_in("alice@example.com")
        status, body = await schedule(running, token, customer_id, due_at=due_in(1.5))
        assert status == 201, body
        # Carol writes again meanwhile; Alice (her last agent) takes it.
        assert (await carol.call("message", {"body": "Any news?"}))["ok"]
        offer = await alice.next("offer")
        assert (await alice.call("accept", {"interaction_id": offer["interaction_id"]}))["ok"]

        await asyncio.sleep(2.5)
        assert alice.pending("offer") == [] and bob.pending("offer") == []
        _, listed = await running.get(f"/api/v1/customers/{customer_id}/followups", token)
        [done] = listed["followups"]
        assert done["state"] == "opened" and done["became_note"] is True
        assert done["interaction_id"] == offer["interaction_id"]
        status, record = await running.get(f"/api/v1/customers/{customer_id}", token)
        assert status == 200
        [note] = [n for n in record["notes"] if n["interaction_id"] == offer["interaction_id"]]
        assert note["body"] == f"Follow-up scheduled by Alice Agent: {NOTE}"
        # Alice, on that contact, saw it arrive in her console as it was added.
        pushed = await alice.next("note_added")
        assert pushed == {"interaction_id": offer["interaction_id"], "note": note}
        for client in (alice, bob, carol):
            await client.close()


async def test_followup_cancelled_never_opens_and_only_its_people_may_cancel(
    tmp_path: Path,
) -> None:
    async with serve(settings_for(tmp_path)) as running:
        alice, bob, carol, customer_id, _ = await served(running)
        token = await running.sign_in("alice@example.com")
        status, body = await schedule(running, token, customer_id, due_at=due_in(1))
        assert status == 201, body
        path = f"/api/v1/followups/{body['followup']['followup_id']}"

        # Bob neither owns nor made it.
        status, refused = await running.send(
            "DELETE", path, await running.sign_in("bob@example.com")
        )
        assert status == 403 and refused["error"]["code"] == "forbidden"
        status, cancelled = await running.send("DELETE", path, token)
        assert status == 200 and cancelled["followup"]["state"] == "cancelled"
        status, again = await running.send("DELETE", path, token)
        assert status == 409, again
        await running.add_user("ada@example.com", "Ada Admin", Role.ADMIN)
        ada = await running.sign_in("ada@example.com")
        _, trail = await running.get("/api/v1/admin/audit?action=followup", ada)
        assert [e["action"] for e in trail["entries"]] == [
            "followup.cancelled",
            "followup.scheduled",
        ]

        await asyncio.sleep(2)
        assert alice.pending("offer") == [] and bob.pending("offer") == []
        _, listed = await running.get(f"/api/v1/customers/{customer_id}/followups", token)
        assert [f["state"] for f in listed["followups"]] == ["cancelled"]
        status, scheduled = await running.get("/api/v1/followups?state=scheduled", token)
        assert status == 200 and scheduled["followups"] == []
        for client in (alice, bob, carol):
            await client.close()


async def test_followup_refusals_name_the_field(tmp_path: Path) -> None:
    async with serve(settings_for(tmp_path)) as running:
        alice, bob, carol, customer_id, iid = await served(running)
        token = await running.sign_in("alice@example.com")
        for body, field in (
            ({"due_at": due_in(-60)}, "due_at"),
            ({"due_at": "tomorrow"}, "due_at"),
            ({"due_at": "2030-01-01T09:00:00"}, "due_at"),  # no offset
            ({"due_at": due_in(400 * 86400)}, "due_at"),
            ({"due_at": due_in(60), "note": ""}, "note"),
            ({"due_at": due_in(60), "note": "x" * 2001}, "note"),
            ({"due_at": due_in(60), "queue": "nowhere"}, "queue"),
            ({"due_at": due_in(60), "interaction_id": "one"}, "interaction_id"),
            ({"due_at": due_in(60), "interaction_id": iid + 100}, "interaction_id"),
        ):
            status, refused = await schedule(running, token, customer_id, **body)
            assert status == 400, (body, refused)
            assert refused["error"]["code"] == "invalid_input"
            assert field in refused["error"]["message"], (body, refused)
        status, refused = await running.send(
            "POST", f"/api/v1/customers/{customer_id}/followups", token, json={"due_at": due_in(9)}
        )
        assert status == 400 and "note" in refused["error"]["message"]
        status, refused = await running.get("/api/v1/followups?state=later", token)
        assert status == 400 and "state" in refused["error"]["message"]
        _, listed = await running.get(f"/api/v1/customers/{customer_id}/followups", token)
        assert listed["followups"] == []  # nothing half-written
        for client in (alice, bob, carol):
            await client.close()


async def test_followup_access_agents_only_on_their_customers(tmp_path: Path) -> None:
    async with serve(settings_for(tmp_path)) as running:
        alice, bob, carol, customer_id, _ = await served(running)
        bob_token = await running.sign_in("bob@example.com")
        # Bob never worked with Carol.
        status, refused = await schedule(running, bob_token, customer_id, due_at=due_in(60))
        assert status == 403 and refused["error"]["code"] == "forbidden"
        status, _ = await running.get(f"/api/v1/customers/{customer_id}/followups", bob_token)
        assert status == 403
        alice_id = (await running.hub.store.user_by_email("alice@example.com"))[0].user_id
        status, _ = await running.get(f"/api/v1/followups?agent_id={alice_id}", bob_token)
        assert status == 403

        token = await running.sign_in("alice@example.com")
        status, _ = await schedule(running, token, customer_id, due_at=due_in(600))
        assert status == 201
        # A supervisor sees everyone's, or one agent's.
        await running.add_user("sam@example.com", "Sam Supervisor", Role.SUPERVISOR)
        sam = await running.sign_in("sam@example.com")
        status, everyone = await running.get("/api/v1/followups", sam)
        assert status == 200 and len(everyone["followups"]) == 1
        bob_id = (await running.hub.store.user_by_email("bob@example.com"))[0].user_id
        status, alices = await running.get(f"/api/v1/followups?agent_id={alice_id}", sam)
        assert status == 200 and len(alices["followups"]) == 1
        status, bobs = await running.get(f"/api/v1/followups?agent_id={bob_id}", sam)
        assert status == 200 and bobs["followups"] == []
        status, bobs_own = await running.get("/api/v1/followups", bob_token)
        assert status == 200 and bobs_own["followups"] == []

        # A customer with no conversation has nothing to follow up on.
        status, created = await running.send(
            "POST", "/api/v1/customers", sam, json={"name": "Dora Quiet"}
        )
        assert status == 201, created
        status, refused = await schedule(
            running, sam, created["customer"]["customer_id"], due_at=due_in(60)
        )
        assert status == 400 and "no conversation" in refused["error"]["message"]
        for client in (alice, bob, carol):
            await client.close()


async def test_followup_two_claimers_open_it_once(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    async with serve(settings) as running:
        alice, bob, carol, customer_id, _ = await served(running)
        token = await running.sign_in("alice@example.com")
        status, body = await schedule(running, token, customer_id, due_at=due_in(3600))
        assert status == 201
        followup_id = body["followup"]["followup_id"]
        # Two hub nodes' stores on the same database, both finding it due.
        stores = [SqlStore(make_engine(settings.database.url)) for _ in range(2)]
        try:
            later = datetime.now(UTC) + timedelta(hours=2)
            results = await asyncio.gather(
                *(SqlFollowupStore(s).open(followup_id, priorities={}, now=later) for s in stores)
            )
        finally:
            for s in stores:
                await s.close()
        opened = [r for r in results if r is not None]
        assert len(opened) == 1
        assert opened[0].followup.state is FollowupState.OPENED
        _, record = await running.get(f"/api/v1/customers/{customer_id}", token)
        followups = [i for i in record["interactions"] if i["queue"] == "support"]
        assert len(followups) == 2  # Carol's chat and the one follow-up
        for client in (alice, bob, carol):
            await client.close()


async def test_followup_overdue_at_start_up_opens_once_the_hub_is_up(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    async with serve(settings) as running:
        alice, bob, carol, customer_id, _ = await served(running)
        token = await running.sign_in("alice@example.com")
        # The hub stops before it is due; not a second early (the hub's clock opens it).
        assert running.hub.followups is not None
        await running.hub.followups.stop()
        status, _ = await schedule(running, token, customer_id, due_at=due_in(0.5))
        assert status == 201
        for client in (alice, bob, carol):
            await client.close()
    await asyncio.sleep(1)

    async with serve(settings) as running:
        alice = await connect_again(running, "alice@example.com")
        await available(alice)
        offer = await alice.next("offer", timeout=5)
        assert offer["preview"].endswith(NOTE)
        token = await running.sign_in("alice@example.com")
        _, listed = await running.get(f"/api/v1/customers/{customer_id}/followups", token)
        assert [f["state"] for f in listed["followups"]] == ["opened"]
        await alice.close()


async def connect_again(running: Running, email: str) -> Client:
    token = await running.sign_in(email)
    client = await connect(running.base, "/agent", token=token)
    await client.next("hello")
    return client


async def test_followup_moves_with_a_merge_and_goes_with_an_erasure(tmp_path: Path) -> None:
    async with serve(settings_for(tmp_path)) as running:
        alice, bob, carol, customer_id, _ = await served(running)
        token = await running.sign_in("alice@example.com")
        status, body = await schedule(running, token, customer_id, due_at=due_in(3600))
        assert status == 201
        path = f"/api/v1/followups/{body['followup']['followup_id']}"
        await running.add_user("ada@example.com", "Ada Admin", Role.ADMIN)
        ada = await running.sign_in("ada@example.com")
        _, created = await running.send("POST", "/api/v1/customers", ada, json={"name": "Dana"})
        dana = created["customer"]["customer_id"]

        merge = {"from_customer_id": customer_id}
        status, _ = await running.send("POST", f"/api/v1/customers/{dana}/merge", ada, json=merge)
        assert status == 200
        _, on_dana = await running.get(f"/api/v1/customers/{dana}/followups", ada)
        assert [f["customer_id"] for f in on_dana["followups"]] == [dana]
        status, _ = await running.send("POST", f"/api/v1/customers/{dana}/unmerge", ada, json=merge)
        assert status == 200
        _, on_carol = await running.get(f"/api/v1/customers/{customer_id}/followups", ada)
        assert [f["customer_id"] for f in on_carol["followups"]] == [customer_id]

        status, _ = await running.send(
            "POST", f"/api/v1/customers/{customer_id}/erase", ada, json={"confirm": True}
        )
        assert status == 200
        _, erased = await running.get(f"/api/v1/customers/{customer_id}/followups", ada)
        [gone] = erased["followups"]
        assert (gone["state"], gone["note"]) == ("cancelled", "")
        status, _ = await running.send("DELETE", path, token)
        assert status == 409

        # Scheduling is on the audit trail (no note text there).
        status, trail = await running.get("/api/v1/admin/audit?action=followup", ada)
        assert status == 200
        [entry] = trail["entries"]
        assert entry["action"] == "followup.scheduled"
        assert entry["actor"]["name"] == "alice@example.com"
        assert NOTE not in str(entry)
        for client in (alice, bob, carol):
            await client.close()


async def test_followup_opens_by_the_hubs_clock_not_the_wall_clock(tmp_path: Path) -> None:
    clock = FakeClock()
    async with serve(settings_for(tmp_path), clock=clock) as running:
        alice, bob, carol, customer_id, _ = await served(running)
        token = await running.sign_in("alice@example.com")
        due = (clock.now + timedelta(hours=2)).isoformat()
        status, _ = await schedule(running, token, customer_id, due_at=due)
        assert status == 201
        assert running.hub.followups is not None

        clock.advance(2 * 3600 - 1)
        running.hub.followups.wake()
        await asyncio.sleep(0.5)
        assert alice.pending("offer") == []  # a second early: still scheduled

        clock.advance(1)
        running.hub.followups.wake()
        offer = await alice.next("offer", timeout=5)
        assert offer["preview"].endswith(NOTE)
        for client in (alice, bob, carol):
            await client.close()
