"""The password policy as a table: each rule's refusal names it."""

from __future__ import annotations

import pytest

from hub.errors import InvalidInput
from hub.passwords import check_password_policy


@pytest.mark.parametrize(
    ("password", "refusal"),
    [
        ("short", "at least 10 characters"),
        ("x" * 1025, "at most 1024 characters"),
        ("ZOE@example.com", "not be your email address"),
        ("zoe.smith1", "not be your email address"),
        ("Password123", "most common passwords"),
        ("qwertyuiop", "most common passwords"),
        ("correct horse battery", None),
        ("zoe.smith1 and more", None),
    ],
)
def test_password_policy(password: str, refusal: str | None) -> None:
    if refusal is None:
        check_password_policy(password, email="zoe.smith1@example.com")
        return
    email = "zoe@example.com" if "ZOE" in password else "zoe.smith1@example.com"
    with pytest.raises(InvalidInput, match=refusal):
        check_password_policy(password, email=email)
