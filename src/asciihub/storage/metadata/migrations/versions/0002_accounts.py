"""Accounts: API tokens, share links, user preferences and credential facts.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from asciihub.storage.metadata.tables import UtcDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _user_fk(table: str) -> sa.ForeignKey:
    return sa.ForeignKey("users.id", ondelete="CASCADE", name=f"fk_{table}_user_id_users")


def upgrade() -> None:
    op.create_table(
        "user_security",
        sa.Column("user_id", sa.String(64), _user_fk("user_security"), primary_key=True),
        sa.Column("password_changed_at", UtcDateTime, nullable=True),
        sa.Column("avatar_updated_at", UtcDateTime, nullable=True),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.String(64), _user_fk("api_tokens"), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("scopes", sa.String(64), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("last_used_at", UtcDateTime, nullable=True),
        sa.Column("revoked_at", UtcDateTime, nullable=True),
        sa.UniqueConstraint("token_hash", name="uq_api_tokens_token_hash"),
    )
    op.create_index("idx_api_tokens_user", "api_tokens", ["user_id"])
    op.create_table(
        "share_links",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column(
            "artwork_id",
            sa.String(64),
            sa.ForeignKey(
                "ascii_metadata.id",
                ondelete="CASCADE",
                name="fk_share_links_artwork_id_ascii_metadata",
            ),
            nullable=False,
        ),
        sa.Column("user_id", sa.String(64), _user_fk("share_links"), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("permission", sa.String(8), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("expires_at", UtcDateTime, nullable=False),
        sa.Column("revoked_at", UtcDateTime, nullable=True),
        sa.UniqueConstraint("token_hash", name="uq_share_links_token_hash"),
        sa.CheckConstraint("permission IN ('view', 'edit')", name="ck_share_links_permission"),
    )
    op.create_index("idx_share_links_artwork", "share_links", ["artwork_id"])
    op.create_table(
        "user_preferences",
        sa.Column("user_id", sa.String(64), _user_fk("user_preferences"), primary_key=True),
        sa.Column("style", sa.String(32), nullable=True),
        sa.Column("width", sa.Integer, nullable=True),
        sa.Column("color_mode", sa.String(16), nullable=True),
        sa.Column("theme", sa.String(16), nullable=True),
        sa.Column("updated_at", UtcDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("user_preferences")
    op.drop_index("idx_share_links_artwork", table_name="share_links")
    op.drop_table("share_links")
    op.drop_index("idx_api_tokens_user", table_name="api_tokens")
    op.drop_table("api_tokens")
    op.drop_table("user_security")
