"""The knowledge base API on a real hub (SQLite by default; PostgreSQL with
HUB_TEST_BACKEND=postgresql): full-text search with stemming, ranking, snippets and pages;
drafts hidden from agents; writing refused to agents; Markdown that cannot run script; every
change on the audit trail."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from hub.model import Role
from tests.functional.conftest import Running, serve, settings_for

BASE = "/api/v1/kb/articles"


@dataclass
class Staff:
    running: Running
    supervisor: str
    agent: str
    admin: str

    async def call(
        self, method: str, path: str, token: str | None = None, json: Any = None
    ) -> tuple[int, Any]:
        return await self.running.send(method, path, token or self.supervisor, json=json)

    async def write(self, **fields: Any) -> dict[str, Any]:
        code, body = await self.call("POST", BASE, json=fields)
        assert code == 201, body
        return body["article"]  # type: ignore[no-any-return]

    async def titles(self, query: str, token: str | None = None) -> list[str]:
        code, body = await self.call("GET", f"{BASE}?{query}", token)
        assert code == 200, body
        return [a["title"] for a in body["articles"]]


@pytest.fixture
async def staff(tmp_path: Path) -> AsyncIterator[Staff]:
    async with serve(settings_for(tmp_path)) as running:
        await running.add_user("sue@example.com", "Sue Supervisor", Role.SUPERVISOR)
        await running.add_user("al@example.com", "Al Agent", Role.AGENT)
        await running.add_user("ada@example.com", "Ada Admin", Role.ADMIN)
        yield Staff(
            running,
            await running.sign_in("sue@example.com"),
            await running.sign_in("al@example.com"),
            await running.sign_in("ada@example.com"),
        )


async def test_knowledge_search_finds_stemmed_words_best_first_with_a_snippet(
    staff: Staff,
) -> None:
    await staff.write(
        title="Resetting your password",
        body_markdown="Open **Settings**, choose *Security* and then **Reset passwords**.",
        tags=["Account"],
        published=True,
    )
    await staff.write(
        title="Delivery times",
        body_markdown="Orders ship within two days. Your password is never asked for by couriers.",
        tags=["orders"],
        published=True,
    )
    await staff.write(title="Refunds", body_markdown="Refunds take five days.", published=True)
    # "passwords" finds "password" (stemming); the title match ranks first.
    assert await staff.titles("q=passwords") == ["Resetting your password", "Delivery times"]
    # Every word must match; each may be the start of a word (typing as you search).
    assert await staff.titles("q=reset+passw") == ["Resetting your password"]
    assert await staff.titles("q=refund+password") == []
    code, body = await staff.call("GET", f"{BASE}?q=couriers")
    assert code == 200
    [hit] = body["articles"]
    assert "couriers" in hit["snippet"] and "**" not in hit["snippet"]
    assert await staff.titles("tag=account") == ["Resetting your password"]
    # Search syntax of either database is only words here: nothing breaks, nothing leaks.
    assert await staff.titles('q="OR" NEAR(x* AND -) :* & |') == []


async def test_knowledge_search_pages_with_a_cursor(staff: Staff) -> None:
    for n in range(5):
        await staff.write(title=f"Billing note {n}", body_markdown="About billing.", published=True)
    seen: list[str] = []
    cursor = ""
    while True:
        code, body = await staff.call("GET", f"{BASE}?q=billing&limit=2&cursor={cursor}")
        assert code == 200, body
        seen += [a["title"] for a in body["articles"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == [f"Billing note {n}" for n in range(5)]
    code, body = await staff.call("GET", f"{BASE}?cursor=abc")
    assert code == 400 and "cursor" in body["error"]["message"]


async def test_knowledge_changes_are_found_and_deleted_articles_are_not(staff: Staff) -> None:
    article = await staff.write(title="Opening hours", body_markdown="We open at nine.")
    one = f"{BASE}/{article['article_id']}"
    code, body = await staff.call("PATCH", one, json={"body_markdown": "We open at eight."})
    assert code == 200 and body["article"]["body_text"] == "We open at eight."
    assert await staff.titles("q=eight") == ["Opening hours"]
    assert await staff.titles("q=nine") == []
    code, _ = await staff.call("DELETE", one)
    assert code == 204
    assert await staff.titles("q=eight") == []
    code, body = await staff.call("GET", one)
    assert code == 404
    actions = [a for a in await _audit(staff) if a["action"].startswith("kb.")]
    assert [a["action"] for a in actions] == [
        "kb.article_deleted",
        "kb.article_changed",
        "kb.article_created",
    ]
    assert all(a["actor"]["name"] == "sue@example.com" for a in actions), actions


def _elements(html: str) -> list[tuple[str, dict[str, str | None]]]:
    """Every element of ``html`` with its attributes, as a browser would see them."""
    found: list[tuple[str, dict[str, str | None]]] = []

    class Collector(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            found.append((tag, dict(attrs)))

    Collector().feed(html)
    return found


async def _audit(staff: Staff) -> list[dict[str, Any]]:
    code, body = await staff.call("GET", "/api/v1/admin/audit", staff.admin)
    assert code == 200, body
    return body["entries"]  # type: ignore[no-any-return]


async def test_knowledge_agents_read_published_articles_and_write_nothing(staff: Staff) -> None:
    draft = await staff.write(title="Holiday rota", body_markdown="Draft rota for staff.")
    live = await staff.write(title="Holiday hours", body_markdown="Closed on holidays.")
    await staff.call("PATCH", f"{BASE}/{live['article_id']}", json={"published": True})
    assert await staff.titles("q=holiday", staff.agent) == ["Holiday hours"]
    assert sorted(await staff.titles("q=holiday")) == ["Holiday hours", "Holiday rota"]
    code, body = await staff.call("GET", f"{BASE}/{draft['article_id']}", staff.agent)
    assert code == 403 and "draft" in body["error"]["message"]
    code, _ = await staff.call("GET", f"{BASE}/{live['article_id']}", staff.agent)
    assert code == 200
    code, _ = await staff.call("POST", BASE, staff.agent, json={"title": "x", "body_markdown": "y"})
    assert code == 403
    code, _ = await staff.call("PATCH", f"{BASE}/{live['article_id']}", staff.agent, json={})
    assert code == 403
    code, _ = await staff.call("DELETE", f"{BASE}/{live['article_id']}", staff.agent)
    assert code == 403
    assert await staff.titles("q=holiday", staff.agent) == ["Holiday hours"]


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"body_markdown": "x"}, "title"),
        ({"title": "x"}, "body_markdown"),
        ({"title": "x", "body_markdown": "y", "tags": "a"}, "tags"),
        ({"title": "x", "body_markdown": "y", "language": "English!"}, "language"),
        ({"title": "x", "body_markdown": "y", "published": "yes"}, "published"),
        ({"title": "x", "body_markdown": "y", "colour": "red"}, "colour"),
    ],
)
async def test_knowledge_refuses_bad_articles_by_field(
    staff: Staff, fields: dict[str, Any], named: str
) -> None:
    code, body = await staff.call("POST", BASE, json=fields)
    assert code == 400 and named in body["error"]["message"], body
    assert await staff.titles("") == []


async def test_knowledge_markdown_never_carries_script(staff: Staff) -> None:
    article = await staff.write(
        title="Links",
        body_markdown=(
            "<script>alert(1)</script>\n\n"
            '<img src=x onerror="alert(2)">\n\n'
            "[click](javascript:alert(3)) and [help](https://help.example.com/a)\n\n"
            "![pic](https://img.example.com/p.png)"
        ),
    )
    html = article["body_html"]
    elements = _elements(html)
    assert {tag for tag, _ in elements} == {"p", "a", "img"}, elements
    assert (
        "a",
        {
            "href": "https://help.example.com/a",
            "target": "_blank",
            "rel": "noopener noreferrer nofollow",
        },
    ) in elements
    assert ("img", {"src": "https://img.example.com/p.png", "alt": "pic"}) in elements
    assert not any(k.startswith("on") for _, attrs in elements for k in attrs)
    assert not any("javascript" in (attrs.get("href") or "") for _, attrs in elements)
    # The raw HTML is shown as text, so a reader sees what the writer typed.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    code, body = await staff.call(
        "POST", "/api/v1/kb/preview", json={"body_markdown": "# Hi\n\n<b onclick=x>bold</b>"}
    )
    assert code == 200 and body["body_html"].startswith("<h1>Hi</h1>")
    assert {tag for tag, _ in _elements(body["body_html"])} == {"h1", "p"}
