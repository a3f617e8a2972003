"""Initial schema: users, ascii_metadata, tags and full-text search.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from asciihub.storage.metadata.tables import UtcDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

LOCAL_USER_ID = "local"


def upgrade() -> None:
    users = op.create_table(
        "users",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("handle", sa.String(64), nullable=False),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("password_hash", sa.Text, nullable=True),
        sa.Column("display_name", sa.String(100), nullable=True),
        sa.Column("is_local", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.UniqueConstraint("handle", name="uq_users_handle"),
    )
    op.create_table(
        "ascii_metadata",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column(
            "user_id",
            sa.String(64),
            sa.ForeignKey("users.id", ondelete="CASCADE", name="fk_ascii_metadata_user_id_users"),
            nullable=False,
        ),
        sa.Column("title", sa.Text, nullable=True),
        sa.Column("prompt", sa.Text, nullable=True),
        sa.Column("r2_key", sa.Text, nullable=False),
        sa.Column("visibility", sa.String(16), nullable=False, server_default="private"),
        sa.Column("views", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.Column("width", sa.Integer, nullable=False),
        sa.Column("height", sa.Integer, nullable=False),
        sa.Column("frame_count", sa.Integer, nullable=False),
        sa.Column("fps", sa.Float, nullable=False),
        sa.Column("duration_ms", sa.Integer, nullable=False),
        sa.Column("etag", sa.String(64), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False, server_default="1"),
        sa.CheckConstraint(
            "visibility IN ('private', 'unlisted', 'public')",
            name="ck_ascii_metadata_visibility",
        ),
    )
    op.create_index("idx_user", "ascii_metadata", ["user_id"])
    op.create_index("idx_visibility", "ascii_metadata", ["visibility"])
    op.create_index("idx_created", "ascii_metadata", [sa.text("created_at DESC")])
    op.create_index(
        "idx_gallery_new",
        "ascii_metadata",
        ["visibility", sa.text("created_at DESC"), sa.text("id DESC")],
    )
    op.create_index(
        "idx_gallery_popular",
        "ascii_metadata",
        ["visibility", sa.text("views DESC"), sa.text("created_at DESC"), sa.text("id DESC")],
    )
    op.create_index(
        "idx_user_created",
        "ascii_metadata",
        ["user_id", sa.text("created_at DESC"), sa.text("id DESC")],
    )
    op.create_table(
        "artwork_tags",
        sa.Column(
            "artwork_id",
            sa.String(64),
            sa.ForeignKey(
                "ascii_metadata.id",
                ondelete="CASCADE",
                name="fk_artwork_tags_artwork_id_ascii_metadata",
            ),
            primary_key=True,
        ),
        sa.Column("tag", sa.String(64), primary_key=True),
        sa.Column("position", sa.Integer, nullable=False),
    )
    op.create_index("idx_tag", "artwork_tags", ["tag"])

    if op.get_context().dialect.name == "postgresql":
        op.add_column(
            "ascii_metadata",
            sa.Column("search_vector", sa.dialects.postgresql.TSVECTOR, nullable=True),
        )
        op.create_index("idx_search", "ascii_metadata", ["search_vector"], postgresql_using="gin")
    else:
        op.execute(
            "CREATE VIRTUAL TABLE artwork_fts USING fts5("
            "artwork_id UNINDEXED, title, prompt, tags, "
            "tokenize = 'unicode61 remove_diacritics 2')"
        )

    op.bulk_insert(
        users,
        [
            {
                "id": LOCAL_USER_ID,
                "handle": "local",
                "display_name": "Local user",
                "is_local": True,
                "created_at": datetime.now(UTC),
            }
        ],
    )


def downgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        op.execute("DROP TABLE IF EXISTS artwork_fts")
    op.drop_table("artwork_tags")
    op.drop_table("ascii_metadata")
    op.drop_table("users")
