"""The ``contact-hub`` command as an administrator uses it: real processes, real signals."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import smtplib
import subprocess
import sys
import time
import urllib.request
from email.message import EmailMessage
from pathlib import Path

import aiohttp
import pytest

from hub.storage.sql import SqlStore, make_engine
from tests.functional.backend import hub_database_url
from tests.functional.conftest import connect, free_port

ROOT = Path(__file__).resolve().parents[2]


def hub_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env.update(
        {
            "HUB_DATABASE__URL": hub_database_url(tmp_path, "cli.db"),
            "HUB_SECURITY__SECRET_KEY": "cli-test-key",
            "HUB_LOG_LEVEL": "WARNING",
            # The sample config takes mail on 2525; never collide with a hub already there.
            "HUB_EMAIL__SMTP_PORT": str(free_port()),
        }
    )
    env.update(extra)
    return env


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "hub.cli", "--config", str(ROOT / "config.yaml"), *args]


def wait_listening(proc: subprocess.Popen[str], url: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"hub exited early: {proc.stdout.read() if proc.stdout else ''}")
        try:
            with urllib.request.urlopen(url, timeout=1) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("hub did not start")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_cli_run_stops_gracefully_on_signal_with_clients_connected(
    tmp_path: Path, sig: signal.Signals
) -> None:
    port = free_port()
    with subprocess.Popen(
        cli("run", "--port", str(port)),
        env=hub_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as proc:
        try:
            await asyncio.to_thread(wait_listening, proc, f"http://127.0.0.1:{port}/healthz")
            visitors = [
                await connect(f"http://127.0.0.1:{port}", "/chat", auth={}) for _ in range(3)
            ]
            started = time.monotonic()
            proc.send_signal(sig)
            while proc.poll() is None and time.monotonic() - started < 10:
                await asyncio.sleep(0.02)
            assert time.monotonic() - started < 5
            assert proc.returncode == 0
            for visitor in visitors:  # the hub said goodbye to every client
                await asyncio.wait_for(visitor.sio.wait(), 5)
        finally:
            if proc.poll() is None:
                proc.kill()


def test_cli_env_override_sets_the_port(tmp_path: Path) -> None:
    port = free_port()
    with subprocess.Popen(
        cli("run"),
        env=hub_env(tmp_path, HUB_HTTP__PORT=str(port)),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as proc:
        try:
            wait_listening(proc, f"http://127.0.0.1:{port}/healthz")
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=10)


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ({"HUB_HTTP__PORT": "eighty"}, "http.port"),
        ({"HUB_HTTP__PORT": "70000"}, "70000"),
        ({"HUB_WEBCHAT__QUEUE": "nowhere"}, "'nowhere' is not a configured queue"),
        ({"HUB_HTTP__COLOUR": "blue"}, "http.colour"),
    ],
)
def test_cli_invalid_config_stops_start_up_naming_the_key(
    tmp_path: Path, override: dict[str, str], expected: str
) -> None:
    result = subprocess.run(
        cli("run"), env=hub_env(tmp_path, **override), capture_output=True, text=True, timeout=30
    )
    assert result.returncode != 0
    assert expected in result.stderr
    assert next(iter(override)) in result.stderr  # names where the bad value came from


def add_user(env: dict[str, str], email: str, password: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cli(
            "user", "add", "--role", "agent", "--email", email, "--name", "Zoe", "--password-stdin"
        ),
        env=env,
        input=f"{password}\n",
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_cli_user_add_and_migrate(tmp_path: Path) -> None:
    env = hub_env(tmp_path)
    migrated = subprocess.run(cli("migrate"), env=env, capture_output=True, text=True, timeout=60)
    assert migrated.returncode == 0, migrated.stderr
    assert "up to date" in migrated.stdout
    added = add_user(env, "Zoe@Example.com", "a long enough password")
    assert added.returncode == 0, added.stderr
    assert "created agent" in added.stdout
    assert "temporary: the first sign-in asks for a new one" in added.stdout
    again = add_user(env, "zoe@example.com", "a long enough password")
    assert again.returncode != 0 and "already exists" in again.stderr
    weak = add_user(env, "x@example.com", "short")
    assert weak.returncode != 0 and "at least" in weak.stderr


def test_cli_logs_json_lines_when_configured(tmp_path: Path) -> None:
    env = hub_env(tmp_path, HUB_LOG_LEVEL="INFO", HUB_LOGGING__FORMAT="json")
    migrated = subprocess.run(cli("migrate"), env=env, capture_output=True, text=True, timeout=60)
    assert migrated.returncode == 0, migrated.stderr
    entries = [json.loads(line) for line in migrated.stderr.splitlines()]
    assert entries, "the migration logs what it runs"
    assert {e["logger"] for e in entries} == {"alembic.runtime.migration"}
    assert any("Running upgrade" in e["message"] for e in entries)
    assert all(e["level"] == "INFO" and e["time"].endswith("+00:00") for e in entries)


def test_cli_user_admin_commands(tmp_path: Path) -> None:
    env = hub_env(tmp_path)

    def user(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            cli("user", *args), env=env, input=stdin, capture_output=True, text=True, timeout=60
        )

    assert add_user(env, "zoe@example.com", "a long enough password").returncode == 0
    done = user("set-role", "--email", "Zoe@example.com", "--role", "supervisor")
    assert done.returncode == 0 and "zoe@example.com is now supervisor" in done.stdout, done
    missing = user("disable", "--email", "nobody@example.com")
    assert missing.returncode == 1 and "no user with email nobody@example.com" in missing.stderr
    done = user(
        "passwd",
        "--email",
        "zoe@example.com",
        "--password-stdin",
        "--permanent-password",
        stdin="another long password\n",
    )
    assert done.returncode == 0 and "temporary" not in done.stdout, done

    async def account() -> tuple[str, bool, bool]:
        store = SqlStore(make_engine(env["HUB_DATABASE__URL"]))
        try:
            found = await store.user_by_email("zoe@example.com")
        finally:
            await store.close()
        assert found is not None
        user = found[0]
        return user.role.value, user.disabled, user.must_change_password

    assert asyncio.run(account()) == ("supervisor", False, False)


def _read_until(proc: subprocess.Popen[str], marker: str, timeout: float = 30) -> str:
    """The process's output up to the line holding ``marker`` (read in a thread)."""
    assert proc.stdout is not None
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line and proc.poll() is not None:
            break
        seen.append(line)
        if marker in line:
            return "".join(seen)
    raise AssertionError(f"no {marker!r} in the output:\n{''.join(seen)}")


async def test_cli_demo_prints_working_accounts_and_takes_mail(tmp_path: Path) -> None:
    # README line 1: `contact-hub demo` starts with demo accounts whose printed passwords work.
    port, smtp_port = free_port(), free_port()
    env = hub_env(tmp_path, HUB_EMAIL__SMTP_PORT=str(smtp_port))
    with subprocess.Popen(
        cli("demo", "--port", str(port)),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as proc:
        try:
            out = await asyncio.to_thread(_read_until, proc, "Stop with Ctrl+C")
            base = f"http://127.0.0.1:{port}"
            assert f"agent console      {base}/console" in out
            assert f"mail support@example.com at SMTP 127.0.0.1:{smtp_port}" in out
            accounts = dict(
                (m.group(1), m.group(2))
                for m in re.finditer(r"(\S+@example\.com)\s+(\S+)\s*$", out, re.M)
            )
            assert {"admin@example.com", "alice@example.com"} <= set(accounts), out
            async with aiohttp.ClientSession() as http:
                good = {"email": "alice@example.com", "password": accounts["alice@example.com"]}
                async with http.post(f"{base}/api/v1/session", json=good) as resp:
                    assert resp.status == 200, await resp.text()
                    # The printed password is temporary: the first sign-in asks for a new one.
                    assert (await resp.json())["user"]["must_change_password"] is True
                bad = {**good, "password": "not-the-printed-one"}
                async with http.post(f"{base}/api/v1/session", json=bad) as resp:
                    assert resp.status == 401
            msg = EmailMessage()
            msg["From"], msg["To"], msg["Subject"] = "dan@example.net", "support@example.com", "Hi"
            msg.set_content("Hello from the demo test")
            with smtplib.SMTP("127.0.0.1", smtp_port, timeout=10) as smtp:
                assert smtp.send_message(msg) == {}
            # The demo knowledge base answers a visitor's first question with an article.
            visitor = await connect(base, "/chat", auth={"language": "en"})
            await visitor.next("session")
            assert (await visitor.call("message", {"body": "I forgot my password"}))["ok"]
            offered = await visitor.next("suggestions")
            assert offered["articles"][0]["title"] == "Resetting your password"
            await visitor.close()
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=10)
