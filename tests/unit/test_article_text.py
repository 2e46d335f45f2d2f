"""Article Markdown as plain text (what an agent inserts into a reply) and as snippets; the
visitor's answer to a suggestion, parsed. Pure."""

from __future__ import annotations

from typing import Any

import pytest

from channels.webchat.protocol import SuggestionAnswer, parse_suggestion_answer
from hub.article_text import snippet, to_plain_text
from hub.errors import InvalidInput
from hub.knowledge import search_terms, visitor_terms


@pytest.mark.parametrize(
    ("markdown", "text"),
    [
        ("**Bold** and *em* and `code`", "Bold and em and code"),
        ("# Title\n\nBody.", "Title\n\nBody."),
        ("- one\n- two\n\nAfter.", "- one\n- two\n\nAfter."),
        ("3. three\n4. four", "3. three\n4. four"),
        ("See [help](https://example.com/h).", "See help (https://example.com/h)."),
        ("<b>raw</b>", "<b>raw</b>"),  # typed HTML stays as the writer typed it
    ],
)
def test_article_text_plain_text_drops_markdown_marks(markdown: str, text: str) -> None:
    assert to_plain_text(markdown) == text


def test_article_text_snippet_starts_near_the_word_found() -> None:
    body = "Intro words. " * 20 + "The **refund** takes five days."
    found = snippet(body, ("refund",))
    assert found.startswith("…") and "refund takes five days." in found
    assert snippet("Short.", ()) == "Short."


def test_knowledge_terms_are_words_only() -> None:
    assert search_terms('"OR" NEAR(x* AND -) :* & |') == ("or", "near", "x", "and")
    assert visitor_terms("How do I reset my password?") == ("reset", "password")


@pytest.mark.parametrize(
    ("data", "named"),
    [
        ([], "object"),
        ({"helpful": True}, "article_id"),
        ({"article_id": True, "helpful": True}, "article_id"),
        ({"article_id": 0, "helpful": True}, "article_id"),
        ({"article_id": 1, "helpful": "yes"}, "helpful"),
    ],
)
def test_suggestion_answer_refused_by_field(data: Any, named: str) -> None:
    with pytest.raises(InvalidInput, match=named):
        parse_suggestion_answer(data)


def test_suggestion_answer_parsed() -> None:
    assert parse_suggestion_answer({"article_id": 7, "helpful": False}) == SuggestionAnswer(
        7, False
    )
