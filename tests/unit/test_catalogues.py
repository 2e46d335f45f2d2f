"""The console's message catalogues: every key the pages use is in every language, the
languages match the server's list, and placeholders and plural forms line up."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from hub.languages import LANGUAGES

STATIC = Path(__file__).parents[2] / "agent_console" / "static"
PAGES = [
    "console.js",
    "wrapup.js",
    "canned.js",
    "kb.js",
    "kb_admin.js",
    "email.js",
    "sms.js",
    "login.js",
    "voice.js",
    "device.js",
    "thread_pages.js",
    "whisper.js",
    "receipts.js",
    "customer_form.js",
    "customer_link.js",
    "followups.js",
    "supervisor.js",
    "wallboard_agents.js",
    "wallboard_calls.js",
    "wallboard_charts.js",
    "wallboard_live.js",
    "wallboard_tiles.js",
    "history.js",
    "customers.js",
    "customer_record.js",
    "console.html",
    "login.html",
    "supervisor.html",
    "history.html",
    "customers.html",
    "kb.html",
]
KEY_PATTERNS = [
    r"\bt\(\s*\"([^\"]+)\"",
    r"\btr\([^,()]+(?:\([^()]*\))?,\s*\"([^\"]+)\"",
    r"data-i18n(?:-[a-z-]+)?=\"([^\"]+)\"",
    r"i18n[A-Z][A-Za-z]* = \"([^\"]+)\"",
    r"\?\s*\"([a-z_]+\.[a-z_.]+)\"\s*:\s*\"([a-z_]+\.[a-z_.]+)\"",
]


def catalogue(language: str) -> dict[str, object]:
    data = json.loads((STATIC / "i18n" / f"{language}.json").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def used_keys() -> set[str]:
    keys: set[str] = set()
    for page in PAGES:
        text = (STATIC / page).read_text(encoding="utf-8")
        for pattern in KEY_PATTERNS:
            for found in re.findall(pattern, text):
                keys.update([found] if isinstance(found, str) else found)
    return keys


def test_catalogues_exist_for_exactly_the_servers_languages() -> None:
    files = sorted(p.stem for p in (STATIC / "i18n").glob("*.json"))
    assert files == sorted(LANGUAGES)


def test_catalogues_hold_every_key_the_pages_use() -> None:
    keys = used_keys()
    assert len(keys) > 100  # the extraction found the pages' keys
    for language in LANGUAGES:
        missing = sorted(keys - set(catalogue(language)))
        assert missing == [], f"{language} lacks {missing}"


def test_pages_have_no_untranslated_visible_text() -> None:
    """Every element of the pages whose text a user reads names its catalogue entry (the
    English in the HTML is only what shows before the catalogue has loaded)."""
    for page in ("console.html", "login.html", "supervisor.html", "history.html"):
        html = (STATIC / page).read_text(encoding="utf-8")
        for tag in re.finditer(
            r"<(label|button|option|p|span|h[1-6]|th|a|figcaption|caption)\b([^>]*)>([^<]+)(?=<)",
            html,
        ):
            name, attributes, text = tag.groups()
            if not re.search(r"[A-Za-z]{2}", text) or "data-i18n=" in attributes:
                continue
            if re.search(r'class="[^"]*(topbar-brand|login-title)', attributes):
                continue  # the product's name
            raise AssertionError(f"{page}: <{name}> {text.strip()!r} has no data-i18n")
        for tag in re.finditer(r"<[a-z0-9]+\b[^>]*>", html):
            for attribute in ("aria-label", "title", "placeholder"):
                if f' {attribute}="' in tag[0] and f"data-i18n-{attribute}=" not in tag[0]:
                    raise AssertionError(f"{page}: {tag[0]} has no data-i18n-{attribute}")


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != "en"])
def test_catalogues_match_english_keys_and_placeholders(language: str) -> None:
    english, other = catalogue("en"), catalogue(language)
    assert set(other) == set(english)
    for key, value in english.items():
        forms = value.values() if isinstance(value, dict) else [value]
        theirs = other[key]
        their_forms = theirs.values() if isinstance(theirs, dict) else [theirs]
        wanted = {p for f in forms for p in re.findall(r"\{(\w+)\}", str(f))}
        for form in their_forms:
            assert set(re.findall(r"\{(\w+)\}", str(form))) == wanted, key
        if isinstance(value, dict):
            assert isinstance(theirs, dict) and "other" in theirs, key
