"""The hub's logging setup from the environment (contact-hub's start-up, without serving)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from hub.cli import configure_logging
from hub.config import ConfigError

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
