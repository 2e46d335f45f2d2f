"""Customer records: profile fields (company, language, tags, owner, custom fields), soft
delete and erasure times, and each merge with exactly what it moved

Revision ID: 0013_customer_records
Revises: 0012_webhooks
Create Date: 2026-11-23 16:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_customer_records"
down_revision = "0012_webhooks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.add_column(
            sa.Column("company", sa.String(length=200), server_default="", nullable=False)
        )
        batch.add_column(sa.Column("language", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("tags", sa.JSON(), server_default="[]", nullable=False))
        batch.add_column(sa.Column("owner_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("custom", sa.JSON(), server_default="{}", nullable=False))
        batch.add_column(sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_foreign_key(
            op.f("fk_customers_owner_id_users"), "users", ["owner_id"], ["user_id"]
        )
    op.create_table(
        "customer_merges",
        sa.Column("merge_id", sa.Integer(), nullable=False),
        sa.Column("survivor_id", sa.Integer(), nullable=False),
        sa.Column("merged_id", sa.Integer(), nullable=False),
        sa.Column("moved", sa.JSON(), nullable=False),
        sa.Column("by_user_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("unmerged_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["survivor_id"],
            ["customers.customer_id"],
            name=op.f("fk_customer_merges_survivor_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["merged_id"],
            ["customers.customer_id"],
            name=op.f("fk_customer_merges_merged_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["by_user_id"], ["users.user_id"], name=op.f("fk_customer_merges_by_user_id_users")
        ),
        sa.PrimaryKeyConstraint("merge_id", name=op.f("pk_customer_merges")),
    )
    op.create_index(
        op.f("ix_customer_merges_merged_id"), "customer_merges", ["merged_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_customer_merges_merged_id"), table_name="customer_merges")
    op.drop_table("customer_merges")
    with op.batch_alter_table("customers") as batch:
        batch.drop_constraint(op.f("fk_customers_owner_id_users"), type_="foreignkey")
        for column in (
            "erased_at",
            "deleted_at",
            "custom",
            "owner_id",
            "tags",
            "language",
            "company",
        ):
            batch.drop_column(column)
