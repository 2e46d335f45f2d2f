"""An interaction's private notes over REST, on a real hub: a note kept by an integration's
API key shows at once on the holding agent's console and in every read of the interaction,
under the key's name, on the audit trail; scopes and the access policy refuse the rest; bad
input is refused whole with the field named."""

from __future__ import annotations

from pathlib import Path

from hub.desk import NOTE_MAX_BYTES
from hub.model import Role
from tests.functional.conftest import serve, settings_for
from tests.functional.test_api_keys import new_key, with_key
from tests.functional.test_audit import admin, by_action, entries
from tests.functional.test_history import agent, take, visitor_writes


async def test_a_note_by_api_key_reaches_the_agent_and_every_read(tmp_path: Path) -> None:
    async with serve(settings_for(tmp_path)) as running:
        _, alice = await agent(running, "alice@example.com", "Alice Agent")
        assert (await alice.call("set_state", {"state": "available"}))["ok"]
        carol = await visitor_writes(running, "My invoice is wrong")
        iid = await take(alice)
        ada = await admin(running)
        erp, _ = await new_key(running, ada, "ERP", "interactions:read", "interactions:write")
        reader, _ = await new_key(running, ada, "BI", "interactions:read")
        path = f"/api/v1/interactions/{iid}/notes"

        status, body = await with_key(running, erp, "POST", path, {"body": "Invoice 881 paid"})
        assert status == 201, body
        note = body["note"]
        assert (note["author_name"], note["body"], note["kind"]) == (
            "ERP",
            "Invoice 881 paid",
            "note",
        )
        # Live on the console of the agent holding it, as one of her own would be.
        pushed = await alice.next("note_added")
        assert pushed == {"interaction_id": iid, "note": note}

        # In every read: the notes list (for the key and for Alice) and the whole interaction.
        status, listed = await with_key(running, reader, "GET", path)
        assert status == 200 and listed["notes"] == [note]
        alice_token = await running.sign_in("alice@example.com")
        status, hers = await running.get(path, alice_token)
        assert status == 200 and hers["notes"] == [note]
        status, whole = await running.get(f"/api/v1/interactions/{iid}", alice_token)
        assert status == 200 and whole["notes"] == [note]

        # Alice's own note over REST joins it, under her name.
        status, body = await running.send("POST", path, alice_token, {"body": "Called back"})
        assert status == 201 and body["note"]["author_name"] == "Alice Agent", body
        _, listed = await with_key(running, reader, "GET", path)
        assert [n["author_name"] for n in listed["notes"]] == ["ERP", "Alice Agent"]

        # On the audit trail: who, on which interaction; never the text.
        added = by_action(await entries(running, ada), "note.added")
        assert sorted((e["actor"]["kind"], e["actor"]["name"]) for e in added) == [
            ("api", "ERP"),
            ("user", "alice@example.com"),
        ]
        assert all(e["target"] == {"kind": "interaction", "id": str(iid)} for e in added)
        assert all("Invoice" not in str(e["details"]) for e in added)
        for client in (alice, carol):
            await client.close()


async def test_notes_refused_without_the_scope_the_interaction_or_good_input(
    tmp_path: Path,
) -> None:
    async with serve(settings_for(tmp_path)) as running:
        _, alice = await agent(running, "alice@example.com", "Alice Agent")
        await running.add_user("bob@example.com", "Bob Agent")
        assert (await alice.call("set_state", {"state": "available"}))["ok"]
        carol = await visitor_writes(running, "Hello")
        iid = await take(alice)
        ada = await admin(running)
        reader, _ = await new_key(running, ada, "BI", "interactions:read")
        customers, _ = await new_key(running, ada, "CRM", "customers:read")
        path = f"/api/v1/interactions/{iid}/notes"

        # A key without interactions:write may read but not write; one without
        # interactions:read neither.
        status, body = await with_key(running, reader, "POST", path, {"body": "x"})
        assert (status, body["error"]["code"]) == (403, "forbidden")
        status, _ = await with_key(running, customers, "GET", path)
        assert status == 403
        # Bob holds nothing of this customer's: neither reads nor writes.
        bob = await running.sign_in("bob@example.com")
        for method in ("GET", "POST"):
            data = {"body": "x"} if method == "POST" else None
            status, body = await running.send(method, path, bob, data)
            assert (status, body["error"]["code"]) == (403, "forbidden"), method
        # Nothing was kept by the refused writes.
        alice_token = await running.sign_in("alice@example.com")
        assert (await running.get(path, alice_token))[1]["notes"] == []

        # Bad input: refused whole, naming the field and the limit.
        for data, words in (
            ({}, "body"),
            ({"body": ""}, "body"),
            ({"body": 7}, "body"),
            ({"body": "x" * (NOTE_MAX_BYTES + 1)}, f"the limit is {NOTE_MAX_BYTES} bytes"),
        ):
            status, err = await running.send("POST", path, alice_token, data)
            assert status == 400 and words in err["error"]["message"], (data, err)
        await running.add_user("sam@example.com", "Sam Supervisor", Role.SUPERVISOR)
        sam = await running.sign_in("sam@example.com")
        nowhere = "/api/v1/interactions/999999/notes"
        status, err = await running.send("POST", nowhere, sam, {"body": "x"})
        assert (status, err["error"]["code"]) == (404, "not_found")
        assert (await running.get(path, alice_token))[1]["notes"] == []
        for client in (alice, carol):
            await client.close()
