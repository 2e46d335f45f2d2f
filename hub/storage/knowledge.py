"""The knowledge base's articles (the ``KnowledgeStore`` port) on the same database as
``SqlStore``.

Full-text search is the one place the SQL differs by database (``_matches``): SQLite's FTS5
table ``kb_articles_fts`` (kept in step by triggers, ranked by bm25 with the title weighing
most) or PostgreSQL's tsvector over title and body (``PG_DOCUMENT``, the expression of the
GIN index made by migration 0017, ranked by ts_rank). Both use English stemming. The words
come from ``hub.knowledge.search_terms``, letters and digits only, so neither engine's query
syntax can be reached from outside.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Select,
    String,
    cast,
    column,
    exists,
    func,
    literal_column,
    or_,
    select,
    table,
    update,
)
from sqlalchemy.sql.expression import ColumnClause

from hub.article_text import snippet
from hub.errors import NotFound
from hub.knowledge import Article, ArticleQuery, Hit
from hub.storage import tables as t
from hub.storage.sql import SqlStore, _new_id

A = t.kb_articles
PG_DOCUMENT = (
    "setweight(to_tsvector('english'::regconfig, kb_articles.title), 'A') || "
    "setweight(to_tsvector('english'::regconfig, kb_articles.body_markdown), 'B')"
)


def _article(row: Any) -> Article:
    return Article(
        article_id=row.article_id,
        title=row.title,
        body_markdown=row.body_markdown,
        tags=tuple(row.tags or ()),
        language=row.language,
        published=bool(row.published),
        created_at=row.created_at,
        created_by=row.created_by,
        updated_at=row.updated_at,
        updated_by=row.updated_by,
        deleted_at=row.deleted_at,
    )


def _matches(dialect: str, query: ArticleQuery) -> tuple[Select[Any], Any]:
    """Articles matching ``query.terms`` and their score (higher is better), by database."""
    joiner = " | " if query.any_word else " & "
    if dialect == "postgresql":
        suffix = "" if query.any_word else ":*"
        words = joiner.join(f"{term}{suffix}" for term in query.terms)
        tsquery = func.to_tsquery(literal_column("'english'::regconfig"), words)
        document: ColumnClause[Any] = literal_column(PG_DOCUMENT)
        score = func.ts_rank(document, tsquery)
        return select(A, score.label("score")).where(document.op("@@")(tsquery)), score
    fts = table("kb_articles_fts", column("rowid"))
    joiner = " OR " if query.any_word else " AND "
    suffix = "" if query.any_word else "*"
    words = joiner.join(f'"{term}"{suffix}' for term in query.terms)
    # bm25 is lower for better matches; weights: title, body, tags.
    bm25: ColumnClause[Any] = literal_column("bm25(kb_articles_fts, 10.0, 1.0, 5.0)")
    selected = (
        select(A, (-bm25).label("score"))
        .select_from(A.join(fts, fts.c.rowid == A.c.article_id))
        .where(literal_column("kb_articles_fts").op("MATCH")(words))
    )
    return selected, -bm25


class SqlKnowledgeStore:
    def __init__(self, store: SqlStore) -> None:
        self._store = store
        self._dialect = store.engine.dialect.name

    async def article(self, article_id: int) -> Article:
        async with self._store._tx() as conn:
            query = select(A).where(A.c.article_id == article_id, A.c.deleted_at.is_(None))
            row = (await conn.execute(query)).first()
        if row is None:
            raise NotFound(f"there is no article {article_id}")
        return _article(row)

    async def search_articles(self, query: ArticleQuery) -> list[Hit]:
        if query.terms:
            selected, score = _matches(self._dialect, query)
            order: list[Any] = [score.desc(), A.c.article_id.desc()]
        else:
            selected = select(A, literal_column("0.0").label("score"))
            order = [A.c.updated_at.desc(), A.c.article_id.desc()]
        selected = selected.where(A.c.deleted_at.is_(None))
        if query.language is not None:
            # "en" also finds "en-GB"; "zh-CN" only itself.
            selected = selected.where(
                or_(A.c.language == query.language, A.c.language.like(f"{query.language}-%"))
                if "-" not in query.language
                else A.c.language == query.language
            )
        if query.published_only:
            selected = selected.where(A.c.published.is_(True))
        if query.tag is not None:
            tag = query.tag.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            selected = selected.where(cast(A.c.tags, String).like(f'%"{tag}"%', escape="\\"))
        selected = selected.order_by(*order).offset(query.offset).limit(query.limit)
        async with self._store._tx() as conn:
            rows = (await conn.execute(selected)).all()
        return [
            Hit(_article(r), float(r.score or 0.0), snippet(r.body_markdown, query.terms))
            for r in rows
        ]

    async def add_article(
        self, values: dict[str, Any], *, by_user_id: int | None, now: datetime
    ) -> Article:
        async with self._store._tx() as conn:
            result = await conn.execute(
                A.insert().values(
                    **values,
                    created_at=now,
                    created_by=by_user_id,
                    updated_at=now,
                    updated_by=by_user_id,
                )
            )
            article_id = _new_id(result)
        return await self.article(article_id)

    async def change_article(
        self, article_id: int, changes: dict[str, Any], *, by_user_id: int | None, now: datetime
    ) -> Article:
        async with self._store._tx() as conn:
            result = await conn.execute(
                update(A)
                .where(A.c.article_id == article_id, A.c.deleted_at.is_(None))
                .values(**changes, updated_at=now, updated_by=by_user_id)
            )
            if result.rowcount == 0:
                raise NotFound(f"there is no article {article_id}")
        return await self.article(article_id)

    async def delete_article(
        self, article_id: int, *, by_user_id: int | None, now: datetime
    ) -> Article:
        article = await self.article(article_id)
        async with self._store._tx() as conn:
            result = await conn.execute(
                update(A)
                .where(A.c.article_id == article_id, A.c.deleted_at.is_(None))
                .values(deleted_at=now, published=False, updated_at=now, updated_by=by_user_id)
            )
            if result.rowcount == 0:
                raise NotFound(f"there is no article {article_id}")
        return article

    async def has_published_articles(self) -> bool:
        query = select(exists().where(A.c.published.is_(True), A.c.deleted_at.is_(None)))
        async with self._store._tx() as conn:
            return bool((await conn.execute(query)).scalar())
