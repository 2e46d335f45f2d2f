"""knowledge_base: Markdown articles with full-text search (FTS5 on SQLite, a GIN tsvector
index on PostgreSQL)

Revision ID: 0017_knowledge_base
Revises: 0016_message_receipts
Create Date: 2026-11-24 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017_knowledge_base"
down_revision = "0016_message_receipts"
branch_labels = None
depends_on = None

# The same expression as hub.storage.knowledge.PG_DOCUMENT, so searches use the index.
PG_DOCUMENT = (
    "setweight(to_tsvector('english'::regconfig, title), 'A') || "
    "setweight(to_tsvector('english'::regconfig, body_markdown), 'B')"
)
SQLITE_FTS = [
    "CREATE VIRTUAL TABLE kb_articles_fts USING fts5(title, body_markdown, tags, "
    "content='kb_articles', content_rowid='article_id', "
    "tokenize='porter unicode61 remove_diacritics 2')",
    "CREATE TRIGGER kb_articles_fts_insert AFTER INSERT ON kb_articles BEGIN "
    "INSERT INTO kb_articles_fts(rowid, title, body_markdown, tags) "
    "VALUES (new.article_id, new.title, new.body_markdown, new.tags); END",
    "CREATE TRIGGER kb_articles_fts_delete AFTER DELETE ON kb_articles BEGIN "
    "INSERT INTO kb_articles_fts(kb_articles_fts, rowid, title, body_markdown, tags) "
    "VALUES ('delete', old.article_id, old.title, old.body_markdown, old.tags); END",
    "CREATE TRIGGER kb_articles_fts_update AFTER UPDATE ON kb_articles BEGIN "
    "INSERT INTO kb_articles_fts(kb_articles_fts, rowid, title, body_markdown, tags) "
    "VALUES ('delete', old.article_id, old.title, old.body_markdown, old.tags); "
    "INSERT INTO kb_articles_fts(rowid, title, body_markdown, tags) "
    "VALUES (new.article_id, new.title, new.body_markdown, new.tags); END",
]


def upgrade() -> None:
    op.create_table(
        "kb_articles",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body_markdown", sa.Text(), nullable=False),
        sa.Column("tags", sa.JSON(), server_default="[]", nullable=False),
        sa.Column("language", sa.String(length=20), nullable=False),
        sa.Column("published", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.user_id"], name=op.f("fk_kb_articles_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["users.user_id"], name=op.f("fk_kb_articles_updated_by_users")
        ),
        sa.PrimaryKeyConstraint("article_id", name=op.f("pk_kb_articles")),
    )
    op.create_index(op.f("ix_kb_articles_language"), "kb_articles", ["language"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE INDEX ix_kb_articles_fts ON kb_articles USING gin (({PG_DOCUMENT}))")
    else:
        for statement in SQLITE_FTS:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_kb_articles_fts")
    else:
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS kb_articles_fts_{trigger}")
        op.execute("DROP TABLE IF EXISTS kb_articles_fts")
    op.drop_index(op.f("ix_kb_articles_language"), table_name="kb_articles")
    op.drop_table("kb_articles")
