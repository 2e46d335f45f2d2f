"""The hub's logging setup from the environment (contact-hub's start-up, without serving)."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from hub.cli import configure_logging
from hub.config import ConfigError
from hub.logformat import JsonFormatter, set_log_format

NAMES = ("mail.log", "channels.email")


@pytest.fixture(autouse=True)
def _restore_levels() -> Iterator[None]:
    saved = {name: logging.getLogger(name).level for name in NAMES}
    yield
    for name, level in saved.items():
        logging.getLogger(name).setLevel(level)


def test_logging_smtp_library_quiet_by_default() -> None:
    # aiosmtpd logs every connection and command at INFO: a busy MX would flood the log.
    configure_logging({"HUB_LOG_LEVEL": "debug"})
    assert logging.getLogger("mail.log").level == logging.WARNING
    assert not logging.getLogger("mail.log").isEnabledFor(logging.INFO)


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ("mail.log=INFO", {"mail.log": logging.INFO}),
        (
            " mail.log = debug , channels.email=DEBUG ,",
            {"mail.log": logging.DEBUG, "channels.email": logging.DEBUG},
        ),
    ],
)
def test_logging_levels_per_logger_from_the_environment(
    setting: str, expected: dict[str, int]
) -> None:
    configure_logging({"HUB_LOG_LEVELS": setting})
    assert {name: logging.getLogger(name).level for name in expected} == expected


@pytest.mark.parametrize("setting", ["mail.log", "mail.log=LOUD", "=INFO"])
def test_logging_levels_malformed_is_refused_naming_the_item(setting: str) -> None:
    with pytest.raises(ConfigError, match="HUB_LOG_LEVELS"):
        configure_logging({"HUB_LOG_LEVELS": setting})


def test_logging_json_one_object_per_line_with_extra_fields_and_traceback() -> None:
    logger = logging.getLogger("hub.test")
    try:
        raise ValueError("relay refused")
    except ValueError:
        record = logger.makeRecord(
            "hub.test",
            logging.ERROR,
            __file__,
            1,
            "interaction_id=%s not sent",
            (42,),
            sys.exc_info(),
            extra={"interaction_id": 42, "queue": "support", "level": "not the level"},
        )
    line = JsonFormatter().format(record)
    assert "\n" not in line  # the traceback is inside the JSON string, not on lines of its own
    entry = json.loads(line)
    assert entry["level"] == "ERROR" and entry["logger"] == "hub.test"
    assert entry["message"] == "interaction_id=42 not sent"
    assert entry["interaction_id"] == 42 and entry["queue"] == "support"
    assert "ValueError: relay refused" in entry["exception"]
    assert datetime.fromisoformat(entry["time"]).utcoffset() == timedelta(0)


def test_logging_json_writes_values_it_cannot_encode_as_text() -> None:
    record = logging.makeLogRecord({"msg": "hello", "at": datetime(2026, 1, 2, tzinfo=UTC)})
    assert json.loads(JsonFormatter().format(record))["at"] == "2026-01-02 00:00:00+00:00"


def test_logging_format_from_the_settings_applies_to_the_root_handlers() -> None:
    root = logging.getLogger()
    handler = logging.StreamHandler(io.StringIO())
    root.addHandler(handler)
    try:
        set_log_format("json")
        assert isinstance(handler.formatter, JsonFormatter)
        set_log_format("text")
        assert not isinstance(handler.formatter, JsonFormatter)
    finally:
        root.removeHandler(handler)
