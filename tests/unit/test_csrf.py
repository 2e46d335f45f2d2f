"""The cross-site checks as a table: which origins are the hub's, which tokens match."""

from __future__ import annotations

import pytest

from hub.csrf import allowed_origins, csrf_token, origin_of, origin_problem, token_matches


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://Hub.Example.com/console?x=1", "https://hub.example.com"),
        ("https://hub.example.com:443/", "https://hub.example.com"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://[::1]:8080/x", "http://[::1]:8080"),
        ("null", None),
        ("/console", None),
        ("javascript:alert(1)", None),
        ("http://host:99999", None),
        ("", None),
        (None, None),
    ],
)
def test_origin_of(url: str | None, origin: str | None) -> None:
    assert origin_of(url) == origin


HUB = allowed_origins("https://hub.example.com/", "http", "127.0.0.1:8080")


def test_allowed_origins_are_the_public_url_and_the_address_used() -> None:
    assert HUB == {"https://hub.example.com", "http://127.0.0.1:8080"}
    assert allowed_origins(None, "http", None) == set()


@pytest.mark.parametrize(
    ("origin", "referer", "problem"),
    [
        ("https://hub.example.com", None, None),
        ("http://127.0.0.1:8080", "https://evil.example.net/", None),  # Origin decides
        (None, "http://127.0.0.1:8080/console", None),
        ("https://evil.example.net", "http://127.0.0.1:8080/console", "another site"),
        ("http://127.0.0.1:8081", None, "another site"),
        ("https://hub.example.com.evil.net", None, "another site"),
        ("null", None, "another site"),
        (None, "https://evil.example.net/page", "another site"),
        (None, None, "no Origin or Referer"),
    ],
)
def test_origin_problem(origin: str | None, referer: str | None, problem: str | None) -> None:
    found = origin_problem(origin, referer, HUB)
    assert (found is None) if problem is None else (problem in (found or "")), found


def test_the_token_belongs_to_its_session_only() -> None:
    token = csrf_token("session-a")
    assert token_matches("session-a", token)
    assert not token_matches("session-b", token)
    assert not token_matches("session-a", token.upper())
    assert not token_matches("session-a", None)
    assert not token_matches("session-a", ["list"])
    assert "session-a" not in token
