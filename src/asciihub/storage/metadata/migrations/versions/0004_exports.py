"""Exports: one row per requested export, pointing at its job and its object.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-16
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from asciihub.storage.metadata.tables import UtcDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "exports",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column(
            "user_id",
            sa.String(64),
            sa.ForeignKey("users.id", ondelete="CASCADE", name="fk_exports_user_id_users"),
            nullable=False,
        ),
        sa.Column("artwork_id", sa.String(64), nullable=False),
        sa.Column("job_id", sa.String(64), nullable=False),
        sa.Column("format", sa.String(16), nullable=False),
        sa.Column("object_key", sa.String(512), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=True),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("finished_at", UtcDateTime, nullable=True),
    )
    op.create_index("idx_exports_user_created", "exports", ["user_id", "created_at"])
    op.create_index("idx_exports_job", "exports", ["job_id"])


def downgrade() -> None:
    op.drop_index("idx_exports_job", table_name="exports")
    op.drop_index("idx_exports_user_created", table_name="exports")
    op.drop_table("exports")
