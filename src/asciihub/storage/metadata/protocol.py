"""What services see of the metadata database: small value types and repositories."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

Visibility = Literal["private", "unlisted", "public"]
Sort = Literal["new", "popular"]


@dataclass(frozen=True)
class ArtworkRow:
    """One ``ascii_metadata`` row with its tags and its owner's handle."""

    id: str
    user_id: str
    title: str | None
    prompt: str | None
    r2_key: str
    visibility: Visibility
    views: int
    created_at: datetime
    updated_at: datetime
    width: int
    height: int
    frame_count: int
    fps: float
    duration_ms: int
    etag: str
    sha256: str
    size: int
    revision: int = 1
    tags: tuple[str, ...] = ()
    owner_handle: str = ""


@dataclass(frozen=True)
class DocumentFacts:
    """What the row records about the stored document object."""

    width: int
    height: int
    frame_count: int
    fps: float
    duration_ms: int
    etag: str
    sha256: str
    size: int
    key: str | None = None
    """The object holding this document, when an update moves the row to a new one."""


@dataclass(frozen=True)
class ArtworkChanges:
    """Fields a PATCH may change; None leaves a field as it is."""

    title: str | None = None
    prompt: str | None = None
    visibility: Visibility | None = None
    tags: tuple[str, ...] | None = None
    document: DocumentFacts | None = None
    clear_title: bool = False
    clear_prompt: bool = False


@dataclass(frozen=True)
class Keyset:
    """The position after the last item of a page (the decoded cursor)."""

    created_at: datetime
    id: str
    views: int = 0


@dataclass(frozen=True)
class ListFilter:
    """Which artworks a listing may show, and in which order."""

    visibilities: tuple[Visibility, ...] = ("public",)
    user_id: str | None = None
    query: str | None = None
    tag: str | None = None
    sort: Sort = "new"


@dataclass(frozen=True)
class UserRow:
    """One ``users`` row."""

    id: str
    handle: str
    email: str | None
    display_name: str | None
    is_local: bool
    created_at: datetime


class ArtworkRepository(Protocol):
    """Artwork rows: every write is one transaction, search index included."""

    async def insert(self, row: ArtworkRow) -> None:
        """Insert a new row with its tags and search entry."""
        ...

    async def get(self, artwork_id: str) -> ArtworkRow | None:
        """The row, or None."""
        ...

    async def update(
        self, artwork_id: str, changes: ArtworkChanges, *, expected_revision: int, now: datetime
    ) -> ArtworkRow | None:
        """Apply ``changes`` if the row is still at ``expected_revision``; None if not.

        Every update adds one to the row's ``revision``.
        """
        ...

    async def delete(self, artwork_id: str) -> ArtworkRow | None:
        """Delete the row (tags and search entry too); the row as it was, or None."""
        ...

    async def page(
        self, where: ListFilter, *, after: Keyset | None, limit: int
    ) -> Sequence[ArtworkRow]:
        """Up to ``limit`` rows after ``after`` in ``where.sort`` order."""
        ...

    async def add_views(self, counts: Mapping[str, int]) -> None:
        """Add counted views in one batch."""
        ...

    async def count(self) -> int:
        """How many artwork rows exist."""
        ...

    def iter_all(self, *, batch: int = 500) -> AsyncIterator[ArtworkRow]:
        """Every row, in id order (for fsck, backup and data migration)."""
        ...


class UserRepository(Protocol):
    """User rows."""

    async def get(self, user_id: str) -> UserRow | None:
        """The user, or None."""
        ...

    async def get_by_handle(self, handle: str) -> UserRow | None:
        """The user with this handle (case-insensitive), or None."""
        ...
