"""Authenticator codes: which step a code belongs to, with one step of drift either way."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hub.totp import code_at, matching_step

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
NOW = datetime(2026, 11, 23, 12, 0, 10, tzinfo=UTC)
STEP = int(NOW.timestamp()) // 30


@pytest.mark.parametrize(
    ("code_time", "step"),
    [
        (NOW, STEP),
        (NOW - timedelta(seconds=30), STEP - 1),  # the phone's clock is a little behind
        (NOW + timedelta(seconds=30), STEP + 1),  # ... or ahead
        (NOW - timedelta(seconds=90), None),  # too old
        (NOW + timedelta(minutes=5), None),
    ],
)
def test_matching_step(code_time: datetime, step: int | None) -> None:
    assert matching_step(SECRET, code_at(SECRET, code_time), NOW) == step


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", "12 34 5x"])
def test_malformed_codes_match_nothing(code: str) -> None:
    assert matching_step(SECRET, code, NOW) is None


def test_spaces_in_a_typed_code_are_ignored() -> None:
    code = code_at(SECRET, NOW)
    assert matching_step(SECRET, f"{code[:3]} {code[3:]}", NOW) == STEP
