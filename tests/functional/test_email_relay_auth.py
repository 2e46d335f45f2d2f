"""The relay password: used to authenticate, never written to a log or an API response."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import secrets
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.functional.test_email_outbound import answered_interaction, thread_view
from tests.functional.test_email_support import email_settings, reply, serve, sink_server


class RelayAccounts:
    """The relay's authenticator: one account, switched off until ``accept`` is set."""

    def __init__(self, username: str, password: str) -> None:
        self.username, self.password = username, password
        self.accept = False
        self.seen: list[tuple[str, str]] = []

    def __call__(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        login, password = auth_data.login.decode(), auth_data.password.decode()
        self.seen.append((login, password))
        ok = self.accept and (login, password) == (self.username, self.password)
        return AuthResult(success=ok, handled=False)


def debug_everywhere(caplog: pytest.LogCaptureFixture) -> None:
    """Every logger at DEBUG, every record captured (caplog restores the levels after)."""
    caplog.set_level(logging.DEBUG)
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger):
            caplog.set_level(logging.DEBUG, logger=name)
            assert logger.propagate or logger.handlers == [], name


async def test_email_relay_password_authenticates_and_is_never_logged_or_shown(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    debug_everywhere(caplog)
    password = f"relay-pw-{secrets.token_hex(8)}"
    forms = {
        password,
        base64.b64encode(password.encode()).decode(),  # AUTH LOGIN
        base64.b64encode(f"\0hub-user\0{password}".encode()).decode(),  # AUTH PLAIN
    }
    accounts = RelayAccounts("hub-user", password)
    async with sink_server(authenticator=accounts) as sink:
        settings = email_settings(
            tmp_path,
            relay_port=sink.port,
            env={
                "HUB_EMAIL__RELAY_USERNAME": "hub-user",
                "HUB_EMAIL__RELAY_PASSWORD": password,
            },
        )
        async with serve(settings) as running:
            alice, token, offer = await answered_interaction(running, settings)
            iid = offer["interaction_id"]
            # The relay refuses the login (535): the reply fails with the relay's reason.
            assert (await reply(running, token, iid, "first try"))[0] == 201
            for _ in range(50):
                view = await thread_view(running, token, iid)
                if view["messages"][-1]["status"] == "failed":
                    break
                await asyncio.sleep(0.1)
            assert view["messages"][-1]["status"] == "failed"
            assert "535" in view["messages"][-1]["status_detail"]
            # Accepted: the reply goes out, authenticated with the configured password.
            accounts.accept = True
            assert (await reply(running, token, iid, "second try"))[0] == 201
            await sink.wait(1)
            assert accounts.seen[-1] == ("hub-user", password)
            responses = [
                await running.get(path, token)
                for path in (
                    f"/api/v1/interactions/{iid}/email",
                    "/api/v1/interactions",
                    "/api/v1/me",
                    "/api/v1/agents",
                    "/api/v1/openapi.json",
                    "/healthz",
                )
            ]
            await alice.close()  # type: ignore[attr-defined]
    assert all(status == 200 for status, _ in responses), responses
    shown = json.dumps([body for _, body in responses])
    assert not [form for form in forms if form in shown]
    assert len(caplog.records) > 20  # the capture really saw the hub at DEBUG
    for record in caplog.records:
        text = f"{record.getMessage()} {record.exc_text or ''} {record.stack_info or ''}"
        if record.exc_info and not record.exc_text:
            text += logging.Formatter().formatException(record.exc_info)
        assert not [form for form in forms if form in text], (record.name, text)
    assert not [form for form in forms if form in caplog.text]
