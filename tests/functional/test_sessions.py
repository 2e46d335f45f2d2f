"""Sessions as staff live them: idle timeout, sign-out and an administrator's changes closing
open consoles at once, the first sign-in password change, CSRF refusals and cookie flags."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import socketio

from hub import totp
from hub.app import utc_now
from hub.csrf import csrf_token
from hub.model import Role
from tests.functional.conftest import (
    PASSWORD,
    Client,
    Running,
    connect,
    connect_refused,
    csrf_headers,
    serve,
    settings_for,
)

NEW_PASSWORD = "a brand new passphrase"


class FakeClock:
    def __init__(self) -> None:
        self.now = utc_now()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


async def refusal(
    base: str, namespace: str, token: str, *, auth: Any = None, origin: str | None = None
) -> dict[str, Any]:
    """The error ``{code, message}`` a console socket connection is refused with."""
    headers = {"Cookie": f"hub_session={token}"}
    if origin is not None:
        headers["Origin"] = origin
    return dict((await connect_refused(base, namespace, headers, auth))["data"])


async def signed_out(client: Client) -> str:
    """The reason the hub gave a socket when it ended its session, once it is closed (within
    the second the brief allows)."""
    data = await client.next("signed_out", timeout=1.0)
    async with asyncio.timeout(1.0):
        while client.sio.connected:
            await asyncio.sleep(0.02)
    return str(data["reason"])


async def sign_in_as(running: Running, email: str, password: str) -> tuple[int, Any, str | None]:
    async with aiohttp.ClientSession() as http:
        resp = await http.post(
            f"{running.base}/api/v1/session", json={"email": email, "password": password}
        )
        cookie = resp.cookies.get("hub_session")
        return resp.status, await resp.json(), cookie.value if cookie else None


# ---------------------------------------------------------------------------------------- idle


async def test_an_unused_session_times_out_but_an_open_console_keeps_it(tmp_path: Path) -> None:
    clock = FakeClock()
    settings = settings_for(tmp_path, HUB_SECURITY__IDLE_TIMEOUT_S="1800")
    async with serve(settings, clock=clock) as running:
        await running.add_user("alice@example.com", "Alice")
        await running.add_user("bob@example.com", "Bob")
        alice = await running.sign_in("alice@example.com")
        bob = await running.sign_in("bob@example.com")
        console = await connect(running.base, "/agent", token=bob)
        await console.next("hello")

        # Requests keep a session in use: 20 + 20 minutes with a request between is fine.
        clock.advance(20 * 60)
        assert (await running.get("/api/v1/me", alice))[0] == 200
        assert (await console.call("keep_alive"))["ok"]
        clock.advance(20 * 60)
        assert (await running.get("/api/v1/me", alice))[0] == 200
        assert (await console.call("keep_alive"))["ok"]

        # 31 minutes without a request: Alice's session is gone, like an expired one.
        clock.advance(31 * 60)
        status, body = await running.get("/api/v1/me", alice)
        assert status == 401 and body["error"]["code"] == "unauthorised"
        status, _ = await running.get("/console", alice)
        assert status == 302
        # Bob's console said nothing for 31 minutes either: it is signed out and closed.
        ack = await console.call("keep_alive")
        assert ack["error"]["code"] == "unauthorised"
        assert await signed_out(console) == "idle"
        status, _ = await running.get("/api/v1/me", bob)
        assert status == 401


# ---------------------------------------------------------------------------------- revocation


async def test_sign_out_closes_that_sessions_sockets_at_once(hub_server: Running) -> None:
    await hub_server.add_user("alice@example.com", "Alice")
    desk = await hub_server.sign_in("alice@example.com")
    laptop = await hub_server.sign_in("alice@example.com")
    on_desk = await connect(hub_server.base, "/agent", token=desk)
    on_laptop = await connect(hub_server.base, "/agent", token=laptop)
    await on_desk.next("hello")
    await on_laptop.next("hello")

    status, _ = await hub_server.send("DELETE", "/api/v1/session", desk)
    assert status == 204
    assert await signed_out(on_desk) == "signed_out"
    # The other session of the same agent is untouched.
    assert (await on_laptop.call("keep_alive"))["ok"]
    assert (await hub_server.get("/api/v1/me", desk))[0] == 401
    assert (await hub_server.get("/api/v1/me", laptop))[0] == 200
    await on_laptop.close()


async def test_admin_role_change_and_disabling_close_every_session(hub_server: Running) -> None:
    await hub_server.add_user("admin@example.com", "Ada", Role.ADMIN)
    alice_id = await hub_server.add_user("alice@example.com", "Alice")
    admin = await hub_server.sign_in("admin@example.com")
    first = await hub_server.sign_in("alice@example.com")
    second = await hub_server.sign_in("alice@example.com")
    consoles = [await connect(hub_server.base, "/agent", token=t) for t in (first, second)]
    for console in consoles:
        await console.next("hello")

    status, body = await hub_server.send(
        "PATCH", f"/api/v1/users/{alice_id}", admin, json={"role": "supervisor"}
    )
    assert status == 200 and body["user"]["role"] == "supervisor", body
    assert [await signed_out(c) for c in consoles] == ["role_changed", "role_changed"]
    assert (await hub_server.get("/api/v1/me", first))[0] == 401

    # Signed in again, now a supervisor: the wallboard connects; disabling closes it.
    token = await hub_server.sign_in("alice@example.com")
    wallboard = await connect(hub_server.base, "/supervisor", token=token)
    await wallboard.next("snapshot")
    status, body = await hub_server.send(
        "PATCH", f"/api/v1/users/{alice_id}", admin, json={"disabled": True}
    )
    assert status == 200 and body["user"]["disabled"] is True
    assert await signed_out(wallboard) == "disabled"
    status, _, _ = await sign_in_as(hub_server, "alice@example.com", PASSWORD)
    assert status == 401
    status, body = await hub_server.send(
        "PATCH", f"/api/v1/users/{alice_id}", admin, json={"disabled": False}
    )
    assert status == 200 and body["user"]["disabled"] is False
    assert (await sign_in_as(hub_server, "alice@example.com", PASSWORD))[0] == 200


async def test_user_administration_refuses_clearly(hub_server: Running) -> None:
    admin_id = await hub_server.add_user("admin@example.com", "Ada", Role.ADMIN)
    alice_id = await hub_server.add_user("alice@example.com", "Alice")
    admin = await hub_server.sign_in("admin@example.com")
    alice = await hub_server.sign_in("alice@example.com")

    status, body = await hub_server.get("/api/v1/users", admin)
    assert status == 200
    assert {u["email"]: u["role"] for u in body["users"]} == {
        "admin@example.com": "admin",
        "alice@example.com": "agent",
    }
    cases: list[tuple[str, str, Any, int, str]] = [
        ("GET", "/api/v1/users", None, 403, "forbidden"),
        ("PATCH", f"/api/v1/users/{admin_id}", {"role": "agent"}, 403, "forbidden"),
    ]
    for method, path, data, want_status, want_code in cases:
        status, body = await hub_server.send(method, path, alice, json=data)
        assert (status, body["error"]["code"]) == (want_status, want_code), (path, body)

    refusals: list[tuple[int, Any, str]] = [
        (alice_id, {"role": "boss"}, "role must be one of"),
        (alice_id, {"colour": "red"}, "unknown field(s): colour"),
        (alice_id, {}, "send at least one of"),
        (alice_id, {"disabled": "yes"}, "disabled must be true or false"),
        (alice_id, {"password": "short"}, "at least 10 characters"),
        (admin_id, {"disabled": True}, "may not disable your own account"),
        (admin_id, {"role": "agent"}, "may not change your own role"),
        (9999, {"role": "agent"}, "no user 9999"),
    ]
    for user_id, data, message in refusals:
        status, body = await hub_server.send("PATCH", f"/api/v1/users/{user_id}", admin, json=data)
        assert status in (400, 403, 404) and message in body["error"]["message"], (data, body)
    # Nothing half-changed: a refused request left Alice as she was.
    status, body = await hub_server.get(f"/api/v1/users/{alice_id}", admin)
    assert body["user"]["role"] == "agent" and body["user"]["disabled"] is False
    assert (await hub_server.get("/api/v1/me", alice))[0] == 200


# ------------------------------------------------------------------ first sign-in password change


async def test_a_temporary_password_must_be_changed_before_anything_else(
    hub_server: Running,
) -> None:
    await hub_server.add_user("admin@example.com", "Ada", Role.ADMIN)
    admin = await hub_server.sign_in("admin@example.com")
    temporary = "temporary pass 123"
    status, body = await hub_server.send(
        "POST",
        "/api/v1/users",
        admin,
        json={"email": "zoe@example.com", "name": "Zoe", "role": "agent", "password": temporary},
    )
    assert status == 201 and body["user"]["must_change_password"] is True, body

    status, body, zoe = await sign_in_as(hub_server, "zoe@example.com", temporary)
    assert status == 200 and body["user"]["must_change_password"] is True
    assert zoe is not None
    # Everything but the password change, /me and sign-out answers password_change_required.
    status, body = await hub_server.get("/api/v1/interactions", zoe)
    assert status == 403 and body["error"]["code"] == "password_change_required"
    assert (await hub_server.get("/api/v1/me", zoe))[0] == 200
    assert (await hub_server.get("/console", zoe))[0] == 302
    error = await refusal(
        hub_server.base,
        "/agent",
        zoe,
        origin=hub_server.base,
        auth={"csrf_token": csrf_token(zoe)},
    )
    assert error["code"] == "password_change_required", error

    async def change(current: str, new: str) -> tuple[int, Any]:
        return await hub_server.send(
            "POST",
            "/api/v1/session/password",
            zoe,
            json={"current_password": current, "new_password": new},
        )

    policy = [
        ("wrong current pw", NEW_PASSWORD, "current_password is wrong"),
        (temporary, "short", "at least 10 characters"),
        (temporary, "ZOE@example.com", "must not be your email address"),
        (temporary, "Password123", "most common passwords"),
        (temporary, temporary, "must differ from the current one"),
    ]
    for current, new, message in policy:
        status, body = await change(current, new)
        assert status == 400 and message in body["error"]["message"], (new, body)

    async with aiohttp.ClientSession(cookies={"hub_session": zoe}) as http:
        resp = await http.post(
            f"{hub_server.base}/api/v1/session/password",
            json={"current_password": temporary, "new_password": NEW_PASSWORD},
            headers=csrf_headers(hub_server.base, zoe),
        )
        assert resp.status == 200, await resp.text()
        body = await resp.json()
        fresh = resp.cookies["hub_session"].value
    assert body["user"]["must_change_password"] is False
    assert body["csrf_token"] == csrf_token(fresh)
    # The old session ended; the fresh one reaches everything the agent may.
    assert (await hub_server.get("/api/v1/me", zoe))[0] == 401
    assert (await hub_server.get("/api/v1/interactions", fresh))[0] == 200
    console = await connect(hub_server.base, "/agent", token=fresh)
    await console.next("hello")
    await console.close()
    assert (await sign_in_as(hub_server, "zoe@example.com", temporary))[0] == 401
    assert (await sign_in_as(hub_server, "zoe@example.com", NEW_PASSWORD))[0] == 200


# ---------------------------------------------------------------------------------------- CSRF


async def test_cookie_requests_need_the_hubs_origin_and_the_session_token(
    tmp_path: Path,
) -> None:
    settings = settings_for(tmp_path, HUB_HTTP__PUBLIC_URL="https://hub.example.com")
    async with serve(settings) as running:
        await running.add_user("admin@example.com", "Ada", Role.ADMIN)
        alice_id = await running.add_user("alice@example.com", "Alice")
        status, body, admin = await sign_in_as(running, "admin@example.com", PASSWORD)
        assert admin is not None and body["csrf_token"] == csrf_token(admin)
        assert (await running.get("/api/v1/me", admin))[1]["csrf_token"] == body["csrf_token"]
        path, rename = f"/api/v1/users/{alice_id}", {"name": "Alice A."}
        good = csrf_headers(running.base, admin)

        refused = [
            {"Origin": running.base},  # no token
            {**good, "X-CSRF-Token": csrf_token("another session")},  # another session's
            {**good, "Origin": "https://evil.example.net"},  # a foreign page
            {**good, "Origin": "null"},  # a sandboxed frame
            {"X-CSRF-Token": good["X-CSRF-Token"]},  # no Origin, no Referer
            {"X-CSRF-Token": good["X-CSRF-Token"], "Referer": "https://evil.example.net/x"},
        ]
        for headers in refused:
            status, body = await running.send("PATCH", path, admin, json=rename, headers=headers)
            assert status == 403 and body["error"]["code"] == "csrf", (headers, body)
        accepted = [
            good,
            {**good, "Origin": "https://hub.example.com"},  # the public URL (behind a proxy)
            {"X-CSRF-Token": good["X-CSRF-Token"], "Referer": f"{running.base}/console"},
        ]
        for headers in accepted:
            status, body = await running.send("PATCH", path, admin, json=rename, headers=headers)
            assert status == 200, (headers, body)

        # Sign-in carries no session: scripts without an Origin may, foreign pages may not.
        async with aiohttp.ClientSession() as http:
            resp = await http.post(
                f"{running.base}/api/v1/session",
                json={"email": "alice@example.com", "password": PASSWORD},
                headers={"Origin": "https://evil.example.net"},
            )
            assert resp.status == 403 and (await resp.json())["error"]["code"] == "csrf"
        # Sign-out is a state change too: a foreign page cannot sign anyone out.
        status, body = await running.send(
            "DELETE", "/api/v1/session", admin, headers={"Origin": "https://evil.example.net"}
        )
        assert status == 403
        assert (await running.get("/api/v1/me", admin))[0] == 200

        # Console sockets: the session's token in `auth` and the hub's Origin, or refused.
        for namespace in ("/agent", "/supervisor"):
            error = await refusal(running.base, namespace, admin, origin=running.base)
            assert error["code"] == "csrf", error
            error = await refusal(
                running.base, namespace, admin, origin=running.base, auth={"csrf_token": "x"}
            )
            assert error["code"] == "csrf", error
            # No Origin (nor Referer) at all: not the console.
            error = await refusal(
                running.base, namespace, admin, auth={"csrf_token": csrf_token(admin)}
            )
            assert error["code"] == "csrf", error
            # A foreign page: the Engine.IO transport already refuses the handshake.
            with pytest.raises(socketio.exceptions.ConnectionError):
                await connect(
                    running.base, namespace, token=admin, origin="https://evil.example.net"
                )
        wallboard = await connect(running.base, "/supervisor", token=admin)
        await wallboard.next("snapshot")
        await wallboard.close()


# -------------------------------------------------------------------------------------- cookies


@pytest.mark.parametrize(
    ("public_url", "secure"), [(None, False), ("https://hub.example.com", True)]
)
async def test_session_cookie_flags(tmp_path: Path, public_url: str | None, secure: bool) -> None:
    extra = {"HUB_HTTP__PUBLIC_URL": public_url} if public_url else {}
    async with serve(settings_for(tmp_path, **extra)) as running:
        await running.add_user("alice@example.com", "Alice")
        async with aiohttp.ClientSession() as http:
            resp = await http.post(
                f"{running.base}/api/v1/session",
                json={"email": "alice@example.com", "password": PASSWORD},
            )
            assert resp.status == 200
            cookie = resp.headers["Set-Cookie"]
        flags = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
        assert {"httponly", "path", "max-age"} <= flags, cookie
        assert "SameSite=Lax" in cookie
        assert ("secure" in flags) is secure, cookie


# ---------------------------------------------------------------------------------------- TOTP


async def test_supervisors_can_add_an_authenticator_code_to_their_sign_in(tmp_path: Path) -> None:
    clock = FakeClock()
    async with serve(settings_for(tmp_path), clock=clock) as running:
        await running.add_user("admin@example.com", "Ada", Role.ADMIN)
        sue_id = await running.add_user("sue@example.com", "Sue", Role.SUPERVISOR)
        await running.add_user("alice@example.com", "Alice")
        sue = await running.sign_in("sue@example.com")
        alice = await running.sign_in("alice@example.com")

        status, body = await running.send("POST", "/api/v1/session/totp", alice)
        assert status == 403, body
        status, body = await running.send("POST", "/api/v1/session/totp", sue)
        assert status == 200, body
        secret, uri = body["secret"], body["otpauth_uri"]
        assert uri.startswith("otpauth://totp/contact-hub:sue%40example.com?")
        assert f"secret={secret}" in uri and "issuer=contact-hub" in uri
        later = totp.code_at(secret, clock.now + timedelta(hours=1))
        status, body = await running.send(
            "POST", "/api/v1/session/totp/confirm", sue, json={"code": later}
        )
        assert status == 400 and "code is wrong" in body["error"]["message"]
        status, body = await running.send(
            "POST",
            "/api/v1/session/totp/confirm",
            sue,
            json={"code": totp.code_at(secret, clock.now)},
        )
        assert status == 200 and body == {"totp_enabled": True}

        async def sign_in(code: str | None) -> tuple[int, Any]:
            creds = {"email": "sue@example.com", "password": PASSWORD}
            async with aiohttp.ClientSession() as http:
                resp = await http.post(
                    f"{running.base}/api/v1/session",
                    json=creds if code is None else {**creds, "code": code},
                )
                return resp.status, await resp.json()

        status, body = await sign_in(None)
        assert status == 401 and body["error"]["code"] == "totp_required", body
        status, body = await sign_in(later)
        assert status == 401 and body["error"]["code"] == "unauthorised", body
        clock.advance(30)
        fresh = totp.code_at(secret, clock.now)
        status, body = await sign_in(fresh)
        assert status == 200 and body["user"]["totp_enabled"] is True, body
        status, body = await sign_in(fresh)  # the same code again: a replay
        assert status == 401 and "already used" in body["error"]["message"], body

        # Sue lost her phone: an administrator turns the authenticator off.
        admin = await running.sign_in("admin@example.com")
        status, body = await running.send(
            "PATCH", f"/api/v1/users/{sue_id}", admin, json={"totp": False}
        )
        assert status == 200 and body["user"]["totp_enabled"] is False, body
        assert (await sign_in(None))[0] == 200
