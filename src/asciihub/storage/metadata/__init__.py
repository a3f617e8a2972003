"""The metadata binding (the D1 role): SQL through SQLAlchemy Core, one set of migrations."""

from asciihub.storage.metadata.artworks import SqlArtworkRepository
from asciihub.storage.metadata.database import Database, DatabaseOptions
from asciihub.storage.metadata.migrate import current_revision, head_revision, upgrade
from asciihub.storage.metadata.protocol import (
    ArtworkChanges,
    ArtworkRepository,
    ArtworkRow,
    DocumentFacts,
    Keyset,
    ListFilter,
    Sort,
    UserRepository,
    UserRow,
    Visibility,
)
from asciihub.storage.metadata.users import SqlUserRepository

LOCAL_USER_ID = "local"

__all__ = [
    "LOCAL_USER_ID",
    "ArtworkChanges",
    "ArtworkRepository",
    "ArtworkRow",
    "Database",
    "DatabaseOptions",
    "DocumentFacts",
    "Keyset",
    "ListFilter",
    "Sort",
    "SqlArtworkRepository",
    "SqlUserRepository",
    "UserRepository",
    "UserRow",
    "Visibility",
    "current_revision",
    "head_revision",
    "upgrade",
]
