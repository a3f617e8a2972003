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
        moment: datetime = value
        if moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)


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

# --- accounts: credentials, share links, preferences (migration 0002) --------------
# Secrets are never stored: token and share-link columns hold SHA-256 hex digests.
user_security = sa.Table(
    "user_security",
    metadata,
    sa.Column(
        "user_id", sa.String(64), sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("password_changed_at", UtcDateTime, nullable=True),
    sa.Column("avatar_updated_at", UtcDateTime, nullable=True),
)

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column(
        "user_id", sa.String(64), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("scopes", sa.String(64), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("last_used_at", UtcDateTime, nullable=True),
    sa.Column("revoked_at", UtcDateTime, nullable=True),
    sa.Index("idx_api_tokens_user", "user_id"),
)

share_links = sa.Table(
    "share_links",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column(
        "artwork_id",
        sa.String(64),
        sa.ForeignKey("ascii_metadata.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column(
        "user_id", sa.String(64), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("permission", sa.String(8), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("expires_at", UtcDateTime, nullable=False),
    sa.Column("revoked_at", UtcDateTime, nullable=True),
    sa.CheckConstraint("permission IN ('view', 'edit')", name="permission"),
    sa.Index("idx_share_links_artwork", "artwork_id"),
)

user_preferences = sa.Table(
    "user_preferences",
    metadata,
    sa.Column(
        "user_id", sa.String(64), sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("style", sa.String(32), nullable=True),
    sa.Column("width", sa.Integer, nullable=True),
    sa.Column("color_mode", sa.String(16), nullable=True),
    sa.Column("theme", sa.String(16), nullable=True),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

# --- background jobs, idempotency keys and analytics (migration 0003) ----------------
JOB_STATUSES = ("queued", "running", "done", "failed")

jobs = sa.Table(
    "jobs",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column(
        "user_id", sa.String(64), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("progress", sa.Float, nullable=False, server_default="0"),
    sa.Column("artwork_id", sa.String(64), nullable=True),
    sa.Column("error_code", sa.String(64), nullable=True),
    sa.Column("error_message", sa.Text, nullable=True),
    sa.Column("params", sa.JSON, nullable=False),
    sa.Column("result", sa.JSON, nullable=True),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Column("finished_at", UtcDateTime, nullable=True),
    sa.CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name="status"),
    sa.Index("idx_jobs_user_created", "user_id", "created_at"),
    sa.Index("idx_jobs_status_updated", "status", "updated_at"),
)

idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column(
        "user_id", sa.String(64), sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("request_hash", sa.String(64), nullable=False),
    sa.Column("status_code", sa.Integer, nullable=True),
    sa.Column("response", sa.Text, nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Index("idx_idempotency_keys_created", "created_at"),
)

ANALYTICS_BLOBS = 20
ANALYTICS_DOUBLES = 20

analytics_points = sa.Table(
    "analytics_points",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("dataset", sa.String(64), nullable=False),
    sa.Column("timestamp", UtcDateTime, nullable=False),
    sa.Column("_sample_interval", sa.Integer, nullable=False, server_default="1"),
    sa.Column("index1", sa.String(96), nullable=False),
    *(sa.Column(f"blob{i}", sa.Text, nullable=True) for i in range(1, ANALYTICS_BLOBS + 1)),
    *(sa.Column(f"double{i}", sa.Float, nullable=True) for i in range(1, ANALYTICS_DOUBLES + 1)),
    sa.Index("idx_analytics_points_dataset_index_ts", "dataset", "index1", "timestamp"),
    sa.Index("idx_analytics_points_dataset_ts", "dataset", "timestamp"),
)

exports = sa.Table(
    "exports",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column(
        "user_id", sa.String(64), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("artwork_id", sa.String(64), nullable=False),
    sa.Column("job_id", sa.String(64), nullable=False),
    sa.Column("format", sa.String(16), nullable=False),
    sa.Column("object_key", sa.String(512), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=True),
    sa.Column("sha256", sa.String(64), nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("finished_at", UtcDateTime, nullable=True),
    sa.Index("idx_exports_user_created", "user_id", "created_at"),
    sa.Index("idx_exports_job", "job_id"),
)
