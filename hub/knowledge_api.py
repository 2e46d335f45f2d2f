"""The knowledge base over HTTP (``hub.knowledge``).

    GET    /api/v1/kb/articles?q=&language=&tag=&published=&cursor=&limit=   search
    POST   /api/v1/kb/articles                                                 create
    GET    /api/v1/kb/articles/{article_id}                                    read
    PATCH  /api/v1/kb/articles/{article_id}                                    change, publish
    DELETE /api/v1/kb/articles/{article_id}                                    delete (soft)
    POST   /api/v1/kb/preview                                                  Markdown to HTML

Every staff member searches and reads published articles; supervisors and admins (and API
keys with ``kb:read``) see drafts too (``hub.access.sees_drafts``); supervisors and admins
(and keys with ``kb:write``) write them, and each change goes on the audit trail. An article
comes with its Markdown, its sanitised HTML and its plain text (what "Insert" puts into a
reply).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from aiohttp import web

from hub.access import require_article, sees_drafts
from hub.article_text import to_html, to_plain_text
from hub.audit import AuditAction as Did
from hub.audit_api import record
from hub.auth import STAFF, SUPERVISORS
from hub.errors import InvalidInput
from hub.knowledge import MAX_BODY_CHARS, Article, Hit, article_changes, next_cursor, parse_query
from hub.model import User
from hub.ports import Clock, KnowledgeStore
from hub.text import id_param
from hub.web import api, caller, page_limit, read_json

KNOWLEDGE = web.AppKey("knowledge", KnowledgeStore)
NOW: web.AppKey[Clock] = web.AppKey("knowledge_clock")  # the hub's clock
BASE = "/api/v1/kb/articles"
PAGE_LIMIT = 20
MAX_PAGE_LIMIT = 100


def _time(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def summary_json(article: Article) -> dict[str, Any]:
    return {
        "article_id": article.article_id,
        "title": article.title,
        "tags": list(article.tags),
        "language": article.language,
        "published": article.published,
        "updated_at": _time(article.updated_at),
    }


def hit_json(hit: Hit) -> dict[str, Any]:
    return summary_json(hit.article) | {"snippet": hit.snippet, "rank": hit.rank}


def article_json(article: Article) -> dict[str, Any]:
    return summary_json(article) | {
        "body_markdown": article.body_markdown,
        "body_html": to_html(article.body_markdown),
        "body_text": to_plain_text(article.body_markdown),
        "created_at": _time(article.created_at),
        "created_by": article.created_by,
        "updated_by": article.updated_by,
    }


def _id(request: web.Request) -> int:
    return id_param(request.match_info["article_id"], "article_id")


def _user_id(request: web.Request) -> int | None:
    who = caller(request)
    return who.user_id if isinstance(who, User) else None


def _target(article: Article) -> tuple[str, object]:
    return ("kb_article", article.article_id)


@api(STAFF, scope="kb:read")
async def search_articles(request: web.Request) -> web.Response:
    """Articles matching ``q`` (every word, each as the start of a word), best first, with
    a snippet; without ``q``, the most recently changed first. Agents see published ones."""
    limit = page_limit(request, default=PAGE_LIMIT, maximum=MAX_PAGE_LIMIT)
    query = parse_query(request.query, limit=limit)
    if not sees_drafts(caller(request)):
        query = replace(query, published_only=True)
    page = await request.app[KNOWLEDGE].search_articles(query)
    return web.json_response(
        {"articles": [hit_json(h) for h in page], "next_cursor": next_cursor(query, page)}
    )


@api(STAFF, scope="kb:read")
async def get_article(request: web.Request) -> web.Response:
    article = await request.app[KNOWLEDGE].article(_id(request))
    require_article(caller(request), article.article_id, article.published)
    return web.json_response({"article": article_json(article)})


@api(SUPERVISORS, scope="kb:write")
async def create_article(request: web.Request) -> web.Response:
    values = article_changes(await read_json(request), creating=True)
    article = await request.app[KNOWLEDGE].add_article(
        values, by_user_id=_user_id(request), now=request.app[NOW]()
    )
    details = {"title": article.title, "published": article.published}
    record(request, Did.KB_ARTICLE_CREATED, _target(article), details)
    return web.json_response({"article": article_json(article)}, status=201)


@api(SUPERVISORS, scope="kb:write")
async def change_article(request: web.Request) -> web.Response:
    changes = article_changes(await read_json(request), creating=False)
    if not changes:
        raise InvalidInput(
            "nothing to change: send title, body_markdown, tags, language or published"
        )
    article = await request.app[KNOWLEDGE].change_article(
        _id(request), changes, by_user_id=_user_id(request), now=request.app[NOW]()
    )
    details = {"changed": sorted(changes), "published": article.published}
    record(request, Did.KB_ARTICLE_CHANGED, _target(article), details)
    return web.json_response({"article": article_json(article)})


@api(SUPERVISORS, scope="kb:write")
async def delete_article(request: web.Request) -> web.Response:
    article = await request.app[KNOWLEDGE].delete_article(
        _id(request), by_user_id=_user_id(request), now=request.app[NOW]()
    )
    record(request, Did.KB_ARTICLE_DELETED, _target(article), {"title": article.title})
    return web.Response(status=204)


@api(SUPERVISORS, scope="kb:write")
async def preview(request: web.Request) -> web.Response:
    """The sanitised HTML an article's Markdown would show, before it is saved."""
    body = (await read_json(request)).get("body_markdown")
    if not isinstance(body, str) or len(body) > MAX_BODY_CHARS:
        raise InvalidInput(f"body_markdown must be text of at most {MAX_BODY_CHARS} characters")
    return web.json_response({"body_html": to_html(body)})


def add_routes(app: web.Application) -> None:
    one = BASE + r"/{article_id:\d+}"
    app.router.add_get(BASE, search_articles)
    app.router.add_post(BASE, create_article)
    app.router.add_get(one, get_article)
    app.router.add_patch(one, change_article)
    app.router.add_delete(one, delete_article)
    app.router.add_post("/api/v1/kb/preview", preview)
