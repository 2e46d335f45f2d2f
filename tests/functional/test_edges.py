"""What outsiders can do wrong: bad chat input, forged tokens, missing sessions, wrong roles."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
import socketio

from hub.auth import token_hash
from hub.model import Role
from hub.storage.sql import make_engine
from tests.functional.conftest import PASSWORD, Running, connect


async def _customers_count(running: Running, token: str) -> int:
    status, listing = await running.get("/api/v1/interactions", token)
    assert status == 200
    return len(listing["interactions"])


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        ({"body": "x" * 8193}, "8193 bytes; the limit is 8192"),
        ({"body": "é" * 4097}, "the limit is 8192"),
        ({"body": ""}, "must not be empty"),
        ({"body": "   \n "}, "must not be empty"),
        ({"body": 42}, "body must be a string"),
        ({}, "body must be a string"),
        ("just a string", "must be an object"),
        ([1, 2], "must be an object"),
    ],
)
async def test_chat_bad_message_is_refused_whole(
    hub_server: Running, data: Any, needle: str
) -> None:
    await hub_server.add_user("sue@example.com", "Sue", Role.SUPERVISOR)
    token = await hub_server.sign_in("sue@example.com")
    visitor = await connect(hub_server.base, "/chat", auth={})
    await visitor.next("session")
    ack = await visitor.call("message", data)
    assert ack["error"]["code"] == "invalid_input"
    assert needle in ack["error"]["message"]
    assert await _customers_count(hub_server, token) == 0  # nothing half-written
    ok = await visitor.call("message", {"body": "x" * 8192})  # exactly the limit is fine
    assert ok["ok"]
    assert await _customers_count(hub_server, token) == 1
    await visitor.close()


@pytest.mark.parametrize("token", ["forged.token.value", "", None, 12345, "a" * 600])
async def test_chat_forged_or_odd_token_starts_a_new_visitor(
    hub_server: Running, token: Any
) -> None:
    first = await connect(hub_server.base, "/chat", auth={})
    session = await first.next("session")
    assert (await first.call("message", {"body": "hi"}))["ok"]
    await first.close()
    other = await connect(hub_server.base, "/chat", auth={"token": token})
    fresh = await other.next("session")
    assert fresh["visitor_id"] != session["visitor_id"]
    assert fresh["conversation_id"] is None and fresh["messages"] == []
    await other.close()


async def test_chat_token_signed_with_another_key_is_not_trusted(hub_server: Running) -> None:
    from channels.webchat.transport import VisitorTokens

    forged = VisitorTokens(["someone-elses-key"], 3600).issue("victim")
    client = await connect(hub_server.base, "/chat", auth={"token": forged})
    assert (await client.next("session"))["visitor_id"] != "victim"
    await client.close()


async def test_chat_profile_with_bad_email_is_refused(hub_server: Running) -> None:
    visitor = await connect(hub_server.base, "/chat", auth={})
    await visitor.next("session")
    ack = await visitor.call("profile", {"name": "Eve", "email": "not-an-email"})
    assert ack["error"]["code"] == "invalid_input" and "email" in ack["error"]["message"]
    await visitor.close()


async def test_chat_profile_links_visitor_to_existing_customer(hub_server: Running) -> None:
    await hub_server.add_user("sue@example.com", "Sue", Role.SUPERVISOR)
    token = await hub_server.sign_in("sue@example.com")
    first = await connect(hub_server.base, "/chat", auth={})
    await first.next("session")
    linked = await first.call("profile", {"name": "Carol", "email": "Carol@Example.com"})
    assert (await first.call("message", {"body": "first visit"}))["ok"]
    await first.close()
    # A new browser (new visitor) giving the same email joins the same customer record.
    second = await connect(hub_server.base, "/chat", auth={})
    await second.next("session")
    again = await second.call("profile", {"name": "Carol", "email": "carol@example.com"})
    assert again["customer_id"] == linked["customer_id"]
    assert (await second.call("message", {"body": "second visit"}))["ok"]
    status, record = await hub_server.get(f"/api/v1/customers/{linked['customer_id']}", token)
    assert status == 200
    assert sorted(m["body"] for i in record["interactions"] for m in i["messages"]) == [
        "first visit",
        "second visit",
    ]
    kinds = sorted(i["kind"] for i in record["identities"])
    assert kinds == ["email", "webchat", "webchat"]
    await second.close()


async def test_agent_socket_refused_without_session_or_with_wrong_role(hub_server: Running) -> None:
    with pytest.raises(socketio.exceptions.ConnectionError):
        await connect(hub_server.base, "/agent")
    with pytest.raises(socketio.exceptions.ConnectionError):
        await connect(hub_server.base, "/agent", token="not-a-session")
    await hub_server.add_user("alice@example.com", "Alice")
    token = await hub_server.sign_in("alice@example.com")
    with pytest.raises(socketio.exceptions.ConnectionError):
        await connect(hub_server.base, "/supervisor", token=token)


async def test_agent_session_gone_mid_socket_refuses_events(hub_server: Running) -> None:
    await hub_server.add_user("alice@example.com", "Alice")
    token = await hub_server.sign_in("alice@example.com")
    alice = await connect(hub_server.base, "/agent", token=token)
    await alice.next("hello")
    # The session row goes without an announcement (as when it expires): the next event sees.
    await hub_server.hub.store.delete_session(token_hash(token))
    ack = await alice.call("set_state", {"state": "available"})
    assert ack["error"]["code"] == "unauthorised"
    await alice.close()


async def test_agent_cannot_act_on_what_is_not_theirs(hub_server: Running) -> None:
    await hub_server.add_user("alice@example.com", "Alice")
    alice = await connect(
        hub_server.base, "/agent", token=await hub_server.sign_in("alice@example.com")
    )
    await alice.next("hello")
    visitor = await connect(hub_server.base, "/chat", auth={})
    await visitor.next("session")
    assert (await visitor.call("message", {"body": "hi"}))["ok"]
    status, listing = await hub_server.get(
        "/api/v1/interactions", await hub_server.sign_in("alice@example.com")
    )
    assert status == 200 and listing["interactions"] == []  # not offered to her: not listed
    [record] = await hub_server.hub.store.interactions()
    iid = record.interaction.interaction_id
    for event, data in [
        ("accept", {"interaction_id": iid}),
        ("send_message", {"interaction_id": iid, "body": "sneaky"}),
        ("close", {"interaction_id": iid}),
    ]:
        ack = await alice.call(event, data)
        assert ack["error"]["code"] in {"conflict", "forbidden"}, (event, ack)
    bad = await alice.call("set_state", {"state": "sleeping"})
    assert bad["error"]["code"] == "invalid_input"
    bad = await alice.call("accept", {"interaction_id": "1"})
    assert bad["error"]["code"] == "invalid_input"
    await alice.close()
    await visitor.close()


async def test_rest_requires_session_and_role(hub_server: Running) -> None:
    for path in ("/api/v1/me", "/api/v1/customers/1", "/api/v1/interactions"):
        status, body = await hub_server.get(path)
        assert status == 401 and body["error"]["code"] == "unauthorised", path
    status, _ = await hub_server.get("/console")
    assert status == 302
    await hub_server.add_user("alice@example.com", "Alice")
    token = await hub_server.sign_in("alice@example.com")
    status, _ = await hub_server.get("/console/supervisor", token)
    assert status == 403
    status, body = await hub_server.get("/api/v1/customers/999", token)
    assert status == 404 and body["error"]["code"] == "not_found"
    status, body = await hub_server.get("/api/v1/interactions?state=bogus", token)
    assert status == 400 and "state must be one of" in body["error"]["message"]
    status, body = await hub_server.get("/api/v1/nothing-here", token)
    assert status == 404 and body["error"]["code"] == "not_found"


async def test_sign_in_refuses_wrong_password_with_json_error(hub_server: Running) -> None:
    await hub_server.add_user("alice@example.com", "Alice")
    async with aiohttp.ClientSession() as http:
        for creds in (
            {"email": "alice@example.com", "password": "wrong password!"},
            {"email": "nobody@example.com", "password": PASSWORD},
        ):
            resp = await http.post(f"{hub_server.base}/api/v1/session", json=creds)
            assert resp.status == 401
            assert (await resp.json())["error"]["message"] == "wrong email or password"
            assert "hub_session" not in resp.cookies
        resp = await http.post(
            f"{hub_server.base}/api/v1/session",
            data=b"{not json",
            headers={"Content-Type": "application/json"},
        )
        assert resp.status == 400
        resp = await http.post(  # what a cross-site form could send
            f"{hub_server.base}/api/v1/session",
            data=f'{{"email": "alice@example.com", "password": "{PASSWORD}"}}',
            headers={"Content-Type": "text/plain"},
        )
        assert resp.status == 400 and "hub_session" not in resp.cookies
        resp = await http.post(
            f"{hub_server.base}/api/v1/session",
            json={"email": "alice@example.com", "password": PASSWORD},
        )
        cookie = resp.cookies["hub_session"]
        assert cookie["httponly"] and cookie["samesite"] == "Lax"


async def test_pages_carry_security_headers(hub_server: Running) -> None:
    async with aiohttp.ClientSession() as http:
        resp = await http.get(f"{hub_server.base}/login")
        assert resp.status == 200
        assert "script-src 'self'" in resp.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        resp = await http.get(f"{hub_server.base}/chat")
        assert "frame-ancestors 'self'" in resp.headers["Content-Security-Policy"]
        resp = await http.get(f"{hub_server.base}/widget.js")
        assert resp.status == 200 and "javascript" in resp.headers["Content-Type"]


async def test_healthz_reports_database_reachability(hub_server: Running) -> None:
    status, body = await hub_server.get("/healthz")
    assert (status, body) == (200, {"status": "ok"})
    working = hub_server.hub.store.engine
    hub_server.hub.store.engine = make_engine("sqlite+aiosqlite:////nonexistent-dir/x/hub.db")
    try:
        status, body = await hub_server.get("/healthz")
        assert status == 503 and body["status"] == "unavailable"
    finally:
        await hub_server.hub.store.engine.dispose()
        hub_server.hub.store.engine = working


async def test_openapi_document_lists_the_api(hub_server: Running) -> None:
    status, doc = await hub_server.get("/api/v1/openapi.json")
    assert status == 200 and doc["openapi"].startswith("3.")
    assert {"/api/v1/customers/{customer_id}", "/api/v1/interactions", "/healthz"} <= set(
        doc["paths"]
    )
