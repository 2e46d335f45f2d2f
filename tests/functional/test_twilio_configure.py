"""``contact-hub twilio configure`` as an administrator runs it: a real process, the real SDK,
the fake Twilio API recording what was set on each number."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import yaml

from tests.fakes.sms_hub import ACCOUNT_SID, AUTH_TOKEN
from tests.fakes.twilio_api import FakeTwilioApi
from tests.functional.backend import hub_database_url

PUBLIC = "https://support.example.com"
SMS_ONLY = "+14155550100"
BOTH = "+14155550101"


def write_config(path: Path, api_base_url: str, numbers: list[dict[str, object]]) -> None:
    path.write_text(
        yaml.safe_dump(
            {
                "queues": [
                    {"name": "support", "channels": ["webchat"]},
                    {"name": "texts", "channels": ["sms"]},
                    {"name": "calls", "channels": ["voice", "sms"]},
                ],
                "twilio": {"public_url": PUBLIC, "api_base_url": api_base_url, "numbers": numbers},
            }
        )
    )


async def configure(config: Path, tmp_path: Path, *args: str) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUB_", "TWILIO_"))}
    env |= {
        "HUB_DATABASE__URL": hub_database_url(tmp_path, "cli.db"),
        "HUB_LOG_LEVEL": "DEBUG",
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hub.cli",
        "--config",
        str(config),
        "twilio",
        "configure",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 30)
    return proc.returncode or 0, out.decode()


async def test_twilio_configure_points_numbers_at_the_hub(tmp_path: Path) -> None:
    api = FakeTwilioApi(ACCOUNT_SID, AUTH_TOKEN)
    api.add_number(SMS_ONLY)
    api.add_number(BOTH)
    api.add_number("+14155550199")  # on the account, not in our config: left alone
    await api.start()
    try:
        config = tmp_path / "config.yaml"
        write_config(
            config,
            api.base_url,
            [
                {"number": SMS_ONLY, "queue": "texts"},
                {
                    "number": BOTH,
                    "purposes": ["sms", "voice"],
                    "queue": "calls",
                    "sms_fallback_url": "https://handler.twilio.com/twiml/EH1",
                    "voice_fallback_url": "https://handler.twilio.com/twiml/EH2",
                },
            ],
        )
        code, out = await configure(config, tmp_path, "--dry-run")
        assert code == 0, out
        assert f"sms_url = {PUBLIC}/twilio/sms" in out
        assert api.calls_to(".json", "POST") == []  # a dry run changes nothing

        code, out = await configure(config, tmp_path)
        assert code == 0, out
        assert "configured 2 number(s)" in out
        assert AUTH_TOKEN not in out  # not even in the SDK's debug log
        sms_only = api.number(SMS_ONLY)
        assert sms_only["sms_url"] == f"{PUBLIC}/twilio/sms"
        assert sms_only["sms_method"] == "POST"
        assert sms_only["voice_url"] == "https://demo.twilio.com/welcome/voice/"  # untouched
        both = api.number(BOTH)
        assert both["sms_url"] == f"{PUBLIC}/twilio/sms"
        assert both["sms_fallback_url"] == "https://handler.twilio.com/twiml/EH1"
        assert both["voice_url"] == f"{PUBLIC}/twilio/voice"
        assert both["voice_fallback_url"] == "https://handler.twilio.com/twiml/EH2"
        assert both["status_callback"] == f"{PUBLIC}/twilio/voice/status"
        assert api.number("+14155550199")["sms_url"] == "https://demo.twilio.com/welcome/sms/reply"
        lookups = api.calls_to("/IncomingPhoneNumbers.json", "GET")
        assert [c.query["PhoneNumber"] for c in lookups] == [SMS_ONLY, BOTH]
        assert all(c.username == ACCOUNT_SID for c in api.calls)
    finally:
        await api.close()


async def test_twilio_configure_names_a_number_missing_from_the_account(tmp_path: Path) -> None:
    api = FakeTwilioApi(ACCOUNT_SID, AUTH_TOKEN)
    await api.start()
    try:
        config = tmp_path / "config.yaml"
        write_config(config, api.base_url, [{"number": SMS_ONLY, "queue": "texts"}])
        code, out = await configure(config, tmp_path)
        assert code == 1
        assert f"{SMS_ONLY} is not a number on this Twilio account" in out
    finally:
        await api.close()


async def test_twilio_configure_points_the_browser_phones_twiml_app_at_the_hub(
    tmp_path: Path,
) -> None:
    app_sid = "AP" + "3" * 32
    api = FakeTwilioApi(ACCOUNT_SID, AUTH_TOKEN)
    api.add_number(BOTH)
    api.add_application(app_sid)
    api.add_application("AP" + "4" * 32)  # another app on the account: left alone
    await api.start()
    try:
        config = tmp_path / "config.yaml"
        write_config(
            config, api.base_url, [{"number": BOTH, "purposes": ["voice"], "queue": "calls"}]
        )
        data = yaml.safe_load(config.read_text())
        data["twilio"]["twiml_app_sid"] = app_sid
        config.write_text(yaml.safe_dump(data))
        code, out = await configure(config, tmp_path, "--dry-run")
        assert code == 0, out
        assert f"voice_url = {PUBLIC}/twilio/voice/client" in out
        assert api.applications[app_sid]["voice_url"] == ""

        code, out = await configure(config, tmp_path)
        assert code == 0, out
        assert f"TwiML App {app_sid}:" in out
        assert "configured 1 number(s)" in out
        assert api.applications[app_sid]["voice_url"] == f"{PUBLIC}/twilio/voice/client"
        assert api.applications[app_sid]["voice_method"] == "POST"
        assert api.applications["AP" + "4" * 32]["voice_url"] == ""
    finally:
        await api.close()
