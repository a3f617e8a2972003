"""Background jobs, idempotency keys and analytics data points.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-09
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from asciihub.storage.metadata.tables import UtcDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BLOBS = 20
DOUBLES = 20


def _user_fk(table: str) -> sa.ForeignKey:
    return sa.ForeignKey("users.id", ondelete="CASCADE", name=f"fk_{table}_user_id_users")


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.String(64), _user_fk("jobs"), nullable=False),
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
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'done', 'failed')", name="ck_jobs_status"
        ),
    )
    op.create_index("idx_jobs_user_created", "jobs", ["user_id", "created_at"])
    op.create_index("idx_jobs_status_updated", "jobs", ["status", "updated_at"])
    op.create_table(
        "idempotency_keys",
        sa.Column("user_id", sa.String(64), _user_fk("idempotency_keys"), primary_key=True),
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("status_code", sa.Integer, nullable=True),
        sa.Column("response", sa.Text, nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
    )
    op.create_index("idx_idempotency_keys_created", "idempotency_keys", ["created_at"])
    op.create_table(
        "analytics_points",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column("dataset", sa.String(64), nullable=False),
        sa.Column("timestamp", UtcDateTime, nullable=False),
        sa.Column("_sample_interval", sa.Integer, nullable=False, server_default="1"),
        sa.Column("index1", sa.String(96), nullable=False),
        *(sa.Column(f"blob{i}", sa.Text, nullable=True) for i in range(1, BLOBS + 1)),
        *(sa.Column(f"double{i}", sa.Float, nullable=True) for i in range(1, DOUBLES + 1)),
    )
    op.create_index(
        "idx_analytics_points_dataset_index_ts",
        "analytics_points",
        ["dataset", "index1", "timestamp"],
    )
    op.create_index("idx_analytics_points_dataset_ts", "analytics_points", ["dataset", "timestamp"])


def downgrade() -> None:
    op.drop_index("idx_analytics_points_dataset_ts", table_name="analytics_points")
    op.drop_index("idx_analytics_points_dataset_index_ts", table_name="analytics_points")
    op.drop_table("analytics_points")
    op.drop_index("idx_idempotency_keys_created", table_name="idempotency_keys")
    op.drop_table("idempotency_keys")
    op.drop_index("idx_jobs_status_updated", table_name="jobs")
    op.drop_index("idx_jobs_user_created", table_name="jobs")
    op.drop_table("jobs")
