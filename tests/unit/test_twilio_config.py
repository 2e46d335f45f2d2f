"""The ``twilio:`` section: numbers in E.164, credentials only from the environment, every
mistake named with its key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from hub.config import ConfigError, load_settings

ENV = {"TWILIO_ACCOUNT_SID": "AC" + "0" * 32, "TWILIO_AUTH_TOKEN": "secret-token-123"}


def write(tmp_path: Path, twilio: dict[str, object], **extra: object) -> Path:
    data = {
        "queues": [{"name": "support", "channels": ["webchat", "sms"]}],
        "twilio": twilio,
        **extra,
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_twilio_config_numbers_normalised_and_credentials_from_environment(
    tmp_path: Path,
) -> None:
    path = write(
        tmp_path,
        {
            "public_url": "https://hub.example.com/",
            "numbers": [{"number": "+1 (415) 555-0100", "queue": "support"}],
        },
    )
    settings = load_settings(path, ENV)
    tw = settings.twilio
    assert tw.public_url == "https://hub.example.com"
    assert tw.numbers[0].number == "+14155550100"
    assert tw.numbers[0].purposes == ["sms"]
    assert tw.auth_token is not None and tw.auth_token.get_secret_value() == "secret-token-123"
    assert "secret-token-123" not in repr(settings)
    assert tw.number("+14155550100", "sms") is not None
    assert tw.number("+14155550100", "voice") is None


def test_twilio_config_public_url_defaults_to_http_public_url(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        {"numbers": [{"number": "+14155550100", "queue": "support"}]},
        http={"public_url": "https://support.example.com"},
    )
    assert load_settings(path, ENV).twilio.public_url == "https://support.example.com"


@pytest.mark.parametrize(
    ("twilio", "environ", "message"),
    [
        (
            {"numbers": [{"number": "+14155550100", "queue": "support"}]},
            ENV,
            "twilio.public_url: needed",
        ),
        (
            {
                "public_url": "https://x.example",
                "numbers": [{"number": "+1415", "queue": "support"}],
            },
            ENV,
            "twilio.numbers.0.number",
        ),
        (
            {
                "public_url": "https://x.example",
                "numbers": [{"number": "+14155550100", "queue": "nope"}],
            },
            ENV,
            "twilio.numbers.0.queue: 'nope' is not a queue",
        ),
        (
            {
                "public_url": "https://x.example",
                "numbers": [{"number": "+14155550100", "queue": "support", "purposes": ["voice"]}],
            },
            ENV,
            "does not accept voice",
        ),
        (
            {
                "public_url": "https://x.example",
                "numbers": [
                    {"number": "+14155550100", "queue": "support", "business_hours": "weekdays"}
                ],
            },
            ENV,
            "'weekdays' is not a schedule",
        ),
        (
            {
                "public_url": "https://x.example",
                "numbers": [
                    {"number": "+14155550100", "queue": "support"},
                    {"number": "+1 415 555 0100", "queue": "support"},
                ],
            },
            ENV,
            "listed twice",
        ),
        (
            {
                "public_url": "https://x.example",
                "numbers": [{"number": "+14155550100", "queue": "support"}],
            },
            {"TWILIO_ACCOUNT_SID": "AC" + "0" * 32},
            "set TWILIO_AUTH_TOKEN in the environment",
        ),
        ({"public_url": "ftp://x.example"}, ENV, "twilio.public_url"),
    ],
)
def test_twilio_config_mistakes_are_named(
    tmp_path: Path, twilio: dict[str, object], environ: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(write(tmp_path, twilio), environ)


@pytest.mark.parametrize("key", ["auth_token", "account_sid", "api_key_sid", "api_key_secret"])
def test_twilio_config_credentials_never_from_a_file(tmp_path: Path, key: str) -> None:
    path = write(tmp_path, {key: "written-in-the-file"})
    with pytest.raises(ConfigError, match=f"twilio.{key} must not be written in a file"):
        load_settings(path, ENV)
