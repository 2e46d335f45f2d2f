"""The knowledge base (pure): articles, what a change may hold, and how a search is asked.

Theory of operation
-------------------
An article is Markdown written by supervisors and admins (``hub.knowledge_api``), in one
language, with tags; it is a draft until published, and deletion is soft (``deleted_at``), so
the audit trail and interactions that were self-served by it keep a name. Agents and API keys
with ``kb:read`` read it; only published articles are offered to web-chat visitors
(``hub.suggestions``). Searching is full text, ranked by the database (``hub.storage.
knowledge``: FTS5 on SQLite, tsvector on PostgreSQL); ``search_terms`` turns what a person
typed into plain words, so no search syntax of either engine ever reaches it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hub.errors import InvalidInput

MAX_TITLE_CHARS = 200
MAX_BODY_CHARS = 50_000
MAX_TAGS = 20
MAX_TAG_CHARS = 40
MAX_QUERY_CHARS = 200
MAX_TERMS = 12
DEFAULT_LANGUAGE = "en"
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
_TAG = re.compile(r"^[\w][\w .-]*$")
# Words: letters and digits in any script (CJK included); everything else separates them.
_WORD = re.compile(r"\w+", re.UNICODE)
FIELDS = ("title", "body_markdown", "tags", "language", "published")


@dataclass(frozen=True, slots=True)
class Article:
    article_id: int
    title: str
    body_markdown: str
    tags: tuple[str, ...]
    language: str
    published: bool
    created_at: datetime
    created_by: int | None
    updated_at: datetime
    updated_by: int | None
    deleted_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Hit:
    """One search result: the article, its rank (higher is better) and a snippet of plain
    text around the words found."""

    article: Article
    rank: float
    snippet: str


@dataclass(frozen=True, slots=True)
class ArticleQuery:
    """``terms``: words to find (none: every article, newest change first), each as the
    start of a word and all of them, or with ``any_word`` any of them (a visitor's sentence);
    ``offset``: where this page starts (the cursor); ``published_only`` for visitors."""

    terms: tuple[str, ...] = ()
    any_word: bool = False
    language: str | None = None
    tag: str | None = None
    published_only: bool = False
    offset: int = 0
    limit: int = 20


def search_terms(text: str) -> tuple[str, ...]:
    """The words of ``text`` (at most ``MAX_TERMS``, lower-cased, each once, in order)."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(text[:MAX_QUERY_CHARS].lower()):
        if word not in seen:
            seen[word] = None
        if len(seen) == MAX_TERMS:
            break
    return tuple(seen)


# Words too common to say what a visitor's sentence is about (English; PostgreSQL's english
# configuration drops these too, SQLite's porter tokenizer does not).
STOP_WORDS = frozenset(
    "a about am an and any are as at be been but by can could did do does for from get got "
    "had has have hello hi how i if in is it its me my no not of on or our please so than "
    "that the their them then there these they this to us was we were what when where which "
    "who why will with would you your".split()
)


def visitor_terms(text: str) -> tuple[str, ...]:
    """The words of a visitor's message that say what it is about (``search_terms`` without
    ``STOP_WORDS`` or single letters)."""
    return tuple(w for w in search_terms(text) if w not in STOP_WORDS and len(w) > 1)


def parse_language(value: object, field: str = "language") -> str:
    if not isinstance(value, str) or not _LANGUAGE.match(value) or len(value) > 20:
        raise InvalidInput(f"{field} must be a language tag such as en or zh-CN")
    return value


def parse_query(params: Mapping[str, str], *, limit: int) -> ArticleQuery:
    """The search named by ``q``, ``language``, ``tag``, ``cursor`` and ``published``."""
    q = params.get("q", "")
    if len(q) > MAX_QUERY_CHARS:
        raise InvalidInput(f"q must be at most {MAX_QUERY_CHARS} characters")
    language = params.get("language") or None
    if language is not None:
        language = parse_language(language)
    tag = (params.get("tag") or "").strip() or None
    if tag is not None and len(tag) > MAX_TAG_CHARS:
        raise InvalidInput(f"tag must be at most {MAX_TAG_CHARS} characters")
    cursor = params.get("cursor") or ""
    if cursor and (not cursor.isdigit() or len(cursor) > 9):
        raise InvalidInput(f"cursor must be a value from next_cursor; got {cursor[:40]!r}")
    published = params.get("published", "")
    if published not in ("", "true", "false"):
        raise InvalidInput("published must be true or false")
    return ArticleQuery(
        terms=search_terms(q),
        language=language,
        tag=tag,
        published_only=published == "true",
        offset=int(cursor or 0),
        limit=limit,
    )


def next_cursor(query: ArticleQuery, page: Sequence[Hit]) -> str | None:
    """The cursor of the next page, if ``page`` was full."""
    if len(page) < query.limit:
        return None
    return str(query.offset + len(page))


def _tags(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or len(value) > MAX_TAGS:
        raise InvalidInput(f"tags must be a list of at most {MAX_TAGS} words")
    tags: dict[str, None] = {}
    for tag in value:
        if not isinstance(tag, str) or not tag.strip():
            raise InvalidInput("each tag must be a non-empty string")
        tag = tag.strip().lower()
        if len(tag) > MAX_TAG_CHARS or not _TAG.match(tag):
            raise InvalidInput(
                f"tag {tag[:40]!r}: letters, digits, spaces, dots and dashes, at most "
                f"{MAX_TAG_CHARS} characters"
            )
        tags[tag] = None
    return tuple(tags)


def article_changes(data: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
    """The fields of ``data`` as stored, each checked; a new article needs a title and a body.
    Unknown fields are refused by name, so a typo never passes silently."""
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise InvalidInput(f"unknown field(s): {', '.join(unknown)}; known: {', '.join(FIELDS)}")
    changes: dict[str, Any] = {}
    if "title" in data or creating:
        title = data.get("title")
        if not isinstance(title, str) or not title.strip():
            raise InvalidInput("title is required")
        if len(title.strip()) > MAX_TITLE_CHARS:
            raise InvalidInput(f"title must be at most {MAX_TITLE_CHARS} characters")
        changes["title"] = title.strip()
    if "body_markdown" in data or creating:
        body = data.get("body_markdown")
        if not isinstance(body, str) or not body.strip():
            raise InvalidInput("body_markdown is required")
        if len(body) > MAX_BODY_CHARS:
            raise InvalidInput(f"body_markdown must be at most {MAX_BODY_CHARS} characters")
        changes["body_markdown"] = body
    if "tags" in data:
        changes["tags"] = list(_tags(data["tags"]))
    elif creating:
        changes["tags"] = []
    if "language" in data:
        changes["language"] = parse_language(data["language"])
    elif creating:
        changes["language"] = DEFAULT_LANGUAGE
    if "published" in data:
        if not isinstance(data["published"], bool):
            raise InvalidInput("published must be true or false")
        changes["published"] = data["published"]
    elif creating:
        changes["published"] = False
    return changes
