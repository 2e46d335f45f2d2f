"""Integrations' API keys on a real hub: an admin creates one (REST or CLI) with scopes, the
key reads exactly what its scopes allow with ``Authorization: Bearer``, never a page, a socket
or an unscoped route; revoking it refuses it at once; every use is on the audit trail."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from hub import cli
from hub.audit import AuditQuery
from hub.storage.audit import SqlAuditStore
from hub.storage.sql import SqlStore, make_engine
from tests.functional.conftest import Running, connect_refused, serve, settings_for
from tests.functional.test_audit import admin, by_action, entries
from tests.functional.test_chat_flow import visitor


async def with_key(
    running: Running, key: str, method: str, path: str, json_body: Any = None
) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {key}"}
    async with aiohttp.ClientSession() as http:
        resp = await http.request(
            method, f"{running.base}{path}", json=json_body, headers=headers, allow_redirects=False
        )
        body = await resp.json() if resp.content_type == "application/json" else await resp.text()
        return resp.status, body


async def new_key(running: Running, token: str, name: str, *scopes: str) -> tuple[str, dict]:
    status, body = await running.send(
        "POST", "/api/v1/admin/apikeys", token, json={"name": name, "scopes": list(scopes)}
    )
    assert status == 201, body
    return body["key"], body["api_key"]


async def a_customer(running: Running, token: str) -> int:
    """A web-chat visitor's customer id (the visitor wrote, and left)."""
    chat, _ = await visitor(running)
    ack = await chat.call("message", {"body": "hello"})
    assert ack["ok"], ack
    await chat.close()
    _, listing = await running.get("/api/v1/interactions", token)
    return int(listing["interactions"][0]["customer_id"])


async def test_api_key_reads_what_its_scopes_allow_and_is_refused_everything_else(
    tmp_path: Path,
) -> None:
    async with serve(settings_for(tmp_path)) as running:
        token = await admin(running)
        customer_id = await a_customer(running, token)
        key, made = await new_key(running, token, "erp", "customers:read")
        assert made["prefix"] == key[:12] and made["scopes"] == ["customers:read"]
        assert made["active"] is True

        status, body = await with_key(running, key, "GET", f"/api/v1/customers/{customer_id}")
        assert status == 200 and body["customer_id"] == customer_id, body
        status, _ = await with_key(running, key, "GET", "/api/v1/customers/999999")
        assert status == 404
        status, body = await with_key(running, key, "GET", "/api/v1/interactions")
        assert status == 403 and "interactions:read" in body["error"]["message"], body
        # Routes that name no scope (every admin route) refuse every key.
        for method, path in (("GET", "/api/v1/users"), ("GET", "/api/v1/admin/apikeys")):
            status, body = await with_key(running, key, method, path)
            assert status == 403 and "does not take API keys" in body["error"]["message"], path
        status, body = await with_key(
            running, key, "POST", "/api/v1/admin/apikeys", {"name": "x", "scopes": ["agents:read"]}
        )
        assert status == 403, body
        # Not a session: no page, no socket.
        status, _ = await with_key(running, key, "GET", "/console")
        assert status == 302
        refused = (
            await connect_refused(running.base, "/agent", {"Authorization": f"Bearer {key}"})
        )["data"]
        assert refused["code"] == "unauthorised"
        # A wrong key, or a malformed header, is refused without saying why.
        status, body = await with_key(running, key[:-2] + "xx", "GET", "/api/v1/agents")
        assert status == 401 and body["error"]["code"] == "unauthorised"

        status, listing = await running.get("/api/v1/admin/apikeys", token)
        assert status == 200 and key not in json.dumps(listing)
        (listed,) = listing["api_keys"]
        assert listed["last_used_at"] is not None and "customers:read" in listing["scopes"]

        status, body = await running.send(
            "DELETE", f"/api/v1/admin/apikeys/{made['key_id']}", token
        )
        assert status == 200 and body["api_key"]["revoked_at"] is not None
        status, _ = await with_key(running, key, "GET", f"/api/v1/customers/{customer_id}")
        assert status == 401

        found = await entries(running, token)
        assert key not in json.dumps(found)
        missing, used = by_action(found, "api.used")  # newest first
        assert used["actor"]["kind"] == "api" and used["actor"]["name"] == "erp"
        assert used["details"]["path"] == f"/api/v1/customers/{customer_id}"
        assert (used["details"]["status"], missing["details"]["status"]) == (200, 404)
        assert len(by_action(found, "api.refused")) == 4
        (created,) = by_action(found, "apikey.created")
        assert created["actor"]["name"] == "ada@example.com"
        assert created["details"]["scopes"] == ["customers:read"]
        assert by_action(found, "apikey.revoked")


async def test_api_key_creation_refuses_unknown_scopes_and_names(tmp_path: Path) -> None:
    async with serve(settings_for(tmp_path)) as running:
        token = await admin(running)
        for data, field in (
            ({"name": "erp", "scopes": ["customers:delete"]}, "customers:delete"),
            ({"name": "erp", "scopes": []}, "at least one scope"),
            ({"name": "", "scopes": ["agents:read"]}, "name is required"),
            ({"name": "erp", "scopes": "agents:read"}, "list of scope names"),
        ):
            status, body = await running.send("POST", "/api/v1/admin/apikeys", token, json=data)
            assert status == 400 and field in body["error"]["message"], body
        status, listing = await running.get("/api/v1/admin/apikeys", token)
        assert listing["api_keys"] == []


def test_cli_apikey_create_list_revoke(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    database = f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
    monkeypatch.setenv("HUB_DATABASE__URL", database)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    args = ["apikey", "create", "--name", "erp", "--scope", "customers:read"]
    assert cli.main([*args, "--scope", "interactions:read"]) == 0
    out = capsys.readouterr()
    key = out.out.strip()
    assert key.startswith("chk_") and "not shown again" in out.err
    assert cli.main(["apikey", "list"]) == 0
    listed = capsys.readouterr().out
    assert key[:12] in listed and key not in listed
    assert "customers:read,interactions:read" in listed and "active" in listed
    assert cli.main(["apikey", "revoke", key[:12]]) == 0
    assert "revoked" in capsys.readouterr().out
    assert cli.main(["apikey", "revoke", key[:12]]) == 1  # no active key by that prefix
    assert cli.main(["apikey", "list"]) == 0
    assert "revoked 20" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        cli.main(["apikey", "create", "--name", "erp", "--scope", "everything"])

    async def audited() -> list[str]:
        store = SqlStore(make_engine(database))
        try:
            found = await SqlAuditStore(store).audit_entries(AuditQuery(limit=50))
            assert key not in json.dumps([e.details for e in found])
            return [e.action for e in found]
        finally:
            await store.close()

    assert asyncio.run(audited()) == ["apikey.revoked", "apikey.created"]
