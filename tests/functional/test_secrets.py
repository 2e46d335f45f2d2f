"""Secrets never leave the hub: with every logger at DEBUG, one hub with a Twilio number, an SMTP
relay that requires AUTH, a session secret and a user created by ``contact-hub user add`` is
signed in to (right and wrong password), sent a signed Twilio webhook (and badly signed ones),
and replies by email and SMS; none of the Twilio auth token, relay password, session secret or
user's password (nor their base64 forms on the wire) appears in a log line, an API response,
an acknowledgement or an error message."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import logging
import secrets
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from hub import cli
from hub.config import load_settings
from tests.fakes.twilio_api import FakeTwilioApi
from tests.fakes.twilio_webhooks import TwilioSide
from tests.functional.conftest import connect, free_port, serve
from tests.functional.test_email_relay_auth import RelayAccounts, debug_everywhere
from tests.functional.test_email_support import mail, reply, send, sink_server

ACCOUNT_SID = "AC" + "7" * 32
HUB_NUMBER = "+14155550100"
CUSTOMER = "+14155550123"


def wire_forms(secret: str, *, login: str = "", sid: str = "") -> set[str]:
    """A secret as it may show up: itself, and base64 inside SMTP AUTH or HTTP Basic auth."""
    b64 = base64.b64encode
    return {
        secret,
        b64(secret.encode()).decode(),
        b64(f"\0{login}\0{secret}".encode()).decode(),  # SMTP AUTH PLAIN
        b64(f"{sid}:{secret}".encode()).decode(),  # HTTP Basic (Twilio REST)
    }


async def test_secrets_never_appear_in_logs_responses_or_errors(
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    twilio_token = f"tw-{secrets.token_hex(16)}"
    relay_password = f"relay-{secrets.token_hex(12)}"
    session_secret = f"sk-{secrets.token_urlsafe(32)}"
    password = f"pw-{secrets.token_urlsafe(12)}"
    wrong_password = f"wrong-{secrets.token_urlsafe(12)}"
    secret_forms = (
        wire_forms(twilio_token, sid=ACCOUNT_SID)
        | wire_forms(relay_password, login="hub-relay")
        | wire_forms(session_secret)
        | wire_forms(password)
        | wire_forms(wrong_password)
    )

    api = FakeTwilioApi(ACCOUNT_SID, twilio_token)
    api.add_number(HUB_NUMBER)
    await api.start()
    accounts = RelayAccounts("hub-relay", relay_password)
    accounts.accept = True
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    config = tmp_path / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "routing": {"sticky_s": 0, "missed_offers_before_away": 0},
                "queues": [
                    {"name": "support", "channels": ["webchat", "email"]},
                    {"name": "texts", "channels": ["sms"]},
                ],
                "email": {
                    "domain": "hub.example.com",
                    "addresses": {"support@example.com": "support"},
                    "retry_initial_s": 0.2,
                    "relay_timeout_s": 5,
                },
                "twilio": {
                    "public_url": public,
                    "api_base_url": api.base_url,
                    "numbers": [{"number": HUB_NUMBER, "purposes": ["sms"], "queue": "texts"}],
                },
            }
        )
    )
    debug_everywhere(caplog)  # caplog restores every level afterwards
    cli.configure_logging({"HUB_LOG_LEVEL": "DEBUG", "HUB_LOG_LEVELS": "mail.log=DEBUG"})
    async with sink_server(authenticator=accounts) as sink:
        environ = {
            "HUB_DATABASE__URL": f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}",
            "HUB_HTTP__PORT": str(port),
            "HUB_EMAIL__SMTP_PORT": str(free_port()),
            "HUB_EMAIL__RELAY_PORT": str(sink.port),
            "HUB_EMAIL__RELAY_USERNAME": "hub-relay",
            "HUB_EMAIL__RELAY_PASSWORD": relay_password,
            "HUB_SECURITY__SECRET_KEY": session_secret,
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": twilio_token,
        }
        for name, value in environ.items():
            monkeypatch.setenv(name, value)
        # The operator's way in: `contact-hub user add --password-stdin`.
        for email, role in (("alice@example.com", "agent"), ("ada@example.com", "admin")):
            monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
            args = cli.parser().parse_args(
                ["--config", str(config), "user", "add", "--role", role, "--email", email,
                 "--name", email.split("@")[0].title(), "--password-stdin",
                 "--permanent-password"]
            )  # fmt: skip
            assert await asyncio.to_thread(cli.cmd_user_add, args) == 0
        printed = capsys.readouterr()

        settings = load_settings(config, environ)
        shown: list[Any] = []  # everything a client was told
        async with serve(settings) as running, aiohttp.ClientSession() as http:

            async def sign_in(email: str, pw: str) -> tuple[int, str | None]:
                resp = await http.post(
                    f"{running.base}/api/v1/session", json={"email": email, "password": pw}
                )
                shown.append(await resp.text())
                cookie = resp.cookies.get("hub_session")
                return resp.status, cookie.value if cookie else None

            assert (await sign_in("alice@example.com", wrong_password))[0] == 401
            assert (await sign_in("nobody@example.com", password))[0] == 401
            status, token = await sign_in("alice@example.com", password)
            assert status == 200 and token
            _, admin_token = await sign_in("ada@example.com", password)
            alice = await connect(running.base, "/agent", token=token)
            shown.append(await alice.next("hello"))
            shown.append(await alice.call("set_state", {"state": "available"}))

            # Email: a customer writes, Alice answers, the reply goes out through AUTH.
            await send(settings, mail(message_id="s1@example.org"))
            offer = await alice.next("offer")
            shown.append(offer)
            shown.append(await alice.call("accept", {"interaction_id": offer["interaction_id"]}))
            shown.append(await reply(running, token, offer["interaction_id"], "On its way."))
            await sink.wait(1)
            assert accounts.seen[-1] == ("hub-relay", relay_password)

            # SMS: a signed webhook is taken; unsigned, wrongly signed and tampered are not.
            twilio = TwilioSide(running.base, public, twilio_token, ACCOUNT_SID)
            form = twilio.sms_form(from_number=CUSTOMER, to_number=HUB_NUMBER, body="Hi there")
            for signature in (None, "bad-signature", twilio.sign(public + "/twilio/other", form)):
                refused = await twilio.post("/twilio/sms", form, signature=signature)
                assert refused.status == 403
                shown.append(refused.text)
            assert (await twilio.post("/twilio/sms", form)).status == 200
            offer = await alice.next("offer")
            shown.append(await alice.call("accept", {"interaction_id": offer["interaction_id"]}))
            sent = await alice.call(
                "send_message", {"interaction_id": offer["interaction_id"], "body": "Hello!"}
            )
            assert sent["ok"], sent
            shown.append(sent)
            await api.wait_for(1)  # the reply reached Twilio's REST API with the token
            await alice.close()

            for path in (
                "/api/v1/me",
                "/api/v1/interactions",
                f"/api/v1/customers/{offer['customer']['customer_id']}",
                "/api/v1/agents",
                "/api/v1/openapi.json",
                "/healthz",
                "/api/v1/admin/audit?limit=500",
                "/api/v1/admin/audit.csv",
                "/console/admin/audit",
            ):
                status, body = await running.get(path, admin_token)
                assert status == 200, (path, body)
                shown.append(body)
            # Error messages: a bad filter, a refused role, an unknown route.
            for path, token_used in (
                ("/api/v1/admin/audit?since=never", admin_token),
                ("/api/v1/admin/audit", token),
                ("/api/v1/nowhere", admin_token),
            ):
                status, body = await running.get(path, token_used)
                assert status >= 400
                shown.append(body)
            audit = next(b for b in shown if isinstance(b, dict) and "entries" in b)
            actions = {e["action"] for e in audit["entries"]}
            assert {"signin.failed", "signin.succeeded", "reply.sent", "user.added"} <= actions
    await api.close()

    told = json.dumps(shown, default=str) + printed.out + printed.err
    assert not [form for form in secret_forms if form in told]
    assert len(caplog.records) > 50  # the capture really saw the hub at DEBUG
    levels = {record.levelno for record in caplog.records}
    assert logging.DEBUG in levels
    for record in caplog.records:
        text = f"{record.getMessage()} {record.exc_text or ''} {record.stack_info or ''}"
        if record.exc_info and not record.exc_text:
            text += logging.Formatter().formatException(record.exc_info)
        leaked = [form for form in secret_forms if form in text]
        assert not leaked, (record.name, text)
    assert not [form for form in secret_forms if form in caplog.text]
