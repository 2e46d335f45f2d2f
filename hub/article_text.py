"""An article's Markdown as safe HTML (to read) and as plain text (to put into a reply).

Markdown is parsed by markdown-it-py (CommonMark, plus tables and strikethrough) with raw
HTML off, so tags in the body come out as text; the result is then cleaned by nh3 against an
allow-list anyway, so nothing that runs script, loads a frame or styles the page survives,
only http(s) and mailto links do, and every link gets ``rel="noopener noreferrer nofollow"``
and opens in a new tab. Pure: no I/O.
"""

from __future__ import annotations

import re

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

_MARKDOWN = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
_MARKDOWN.enable(["table", "strikethrough"])

ALLOWED_TAGS = {
    "a",
    "blockquote",
    "br",
    "code",
    "del",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "img",
    "li",
    "ol",
    "p",
    "pre",
    "s",
    "strong",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
    "td": {"align"},
    "th": {"align"},
}
SNIPPET_CHARS = 160


def to_html(markdown: str) -> str:
    """Sanitised HTML of ``markdown``, safe to insert into a page."""
    html = _MARKDOWN.render(markdown)
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        set_tag_attribute_values={"a": {"target": "_blank"}},
        strip_comments=True,
    )


def _inline(token: Token) -> str:
    """The words of an inline token, a link's address kept after its text."""
    parts: list[str] = []
    href: str | None = None
    for child in token.children or ():
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append("\n")
        elif child.type == "image":
            parts.append(child.content)
        elif child.type == "link_open":
            href = str(child.attrs.get("href", ""))
        elif child.type == "link_close" and href:
            parts.append(f" ({href})")
            href = None
    return "".join(parts)


def to_plain_text(markdown: str) -> str:
    """What an agent pastes into a chat: the text without Markdown marks, list items as
    "- " or "1. " lines, paragraphs separated by a blank line."""
    lines: list[str] = []
    lists: list[list[int]] = []  # per open list: [next number] or [] when bulleted
    prefix = ""
    for token in _MARKDOWN.parse(markdown):
        if token.type == "bullet_list_open":
            lists.append([])
        elif token.type == "ordered_list_open":
            lists.append([int(str(token.attrs.get("start", 1)))])
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
            if not lists:
                lines.append("")
        elif token.type == "list_item_open":
            indent = "  " * (len(lists) - 1)
            numbers = lists[-1]
            if numbers:
                prefix = f"{indent}{numbers[0]}. "
                numbers[0] += 1
            else:
                prefix = f"{indent}- "
        elif token.type == "inline":
            text = _inline(token).strip()
            lines.append(prefix + text if prefix else text)
            prefix = ""
        elif token.type in ("fence", "code_block"):
            lines.append(token.content.rstrip("\n"))
            lines.append("")
        elif token.type in ("paragraph_close", "heading_close") and not lists:
            lines.append("")
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def snippet(markdown: str, terms: tuple[str, ...] = ()) -> str:
    """A line of plain text from ``markdown``: around the first word of ``terms`` found, or
    its start; cut at a word with an ellipsis."""
    text = " ".join(to_plain_text(markdown).split())
    lowered = text.lower()
    found = [i for i in (lowered.find(term) for term in terms) if i >= 0]
    start = 0
    if found and min(found) > SNIPPET_CHARS // 3:
        start = text.rfind(" ", 0, min(found) - SNIPPET_CHARS // 4) + 1
    piece = text[start : start + SNIPPET_CHARS]
    if start + SNIPPET_CHARS < len(text):
        piece = piece.rsplit(" ", 1)[0] + "…"
    return ("…" if start > 0 else "") + piece
