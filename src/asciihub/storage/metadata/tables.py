"""The metadata schema (the D1 role) in SQLAlchemy Core.

The seed's ``ascii_metadata`` table keeps its name, columns and indexes, extended
with what the product needs. Full-text search lives beside it: an FTS5 table on
SQLite, a ``tsvector`` column with a GIN index on PostgreSQL (see migrations).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UtcDateTime(sa.types.TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            message = "naive datetimes are not stored; pass an aware UTC datetime"
            raise ValueError(message)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


VISIBILITIES = ("private", "unlisted", "public")

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("handle", sa.String(64), nullable=False, unique=True),
    sa.Column("email", sa.String(320), nullable=True),
    sa.Column("password_hash", sa.Text, nullable=True),
    sa.Column("display_name", sa.String(100), nullable=True),
    sa.Column("is_local", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", UtcDateTime, nullable=False),
)

ascii_metadata = sa.Table(
    "ascii_metadata",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column(
        "user_id",
        sa.String(64),
        sa.ForeignKey("users.id", ondelete="CASCADE"),
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
    sa.CheckConstraint("visibility IN ('private', 'unlisted', 'public')", name="visibility"),
    sa.Index("idx_user", "user_id"),
    sa.Index("idx_visibility", "visibility"),
    sa.Index("idx_created", sa.text("created_at DESC")),
    sa.Index("idx_gallery_new", "visibility", sa.text("created_at DESC"), sa.text("id DESC")),
    sa.Index(
        "idx_gallery_popular",
        "visibility",
        sa.text("views DESC"),
        sa.text("created_at DESC"),
        sa.text("id DESC"),
    ),
    sa.Index("idx_user_created", "user_id", sa.text("created_at DESC"), sa.text("id DESC")),
)

artwork_tags = sa.Table(
    "artwork_tags",
    metadata,
    sa.Column(
        "artwork_id",
        sa.String(64),
        sa.ForeignKey("ascii_metadata.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("tag", sa.String(64), primary_key=True),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Index("idx_tag", "tag"),
)
