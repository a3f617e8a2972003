"""The JSON shapes of artworks as the API and web pages show them."""

from __future__ import annotations

from typing import Any

from asciihub.engine.document import ArtworkDocument
from asciihub.storage.metadata.protocol import ArtworkRow


def artwork_etag(row: ArtworkRow) -> str:
    """The HTTP entity tag of an artwork: changes with every update."""
    return f'"{row.revision}-{row.sha256[:16]}"'


def artwork_summary(row: ArtworkRow) -> dict[str, Any]:
    """An artwork without its frames (gallery and list items)."""
    return {
        "id": row.id,
        "user_id": row.user_id,
        "owner": row.owner_handle,
        "title": row.title,
        "prompt": row.prompt,
        "visibility": row.visibility,
        "tags": list(row.tags),
        "r2_key": row.r2_key,
        "frame_count": row.frame_count,
        "width": row.width,
        "height": row.height,
        "fps": row.fps,
        "duration_ms": row.duration_ms,
        "views": row.views,
        "created_at": row.created_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
        "etag": artwork_etag(row),
        "url": f"/a/{row.id}",
        "thumbnail_url": f"/a/{row.id}/thumbnail.png",
    }


def artwork_json(row: ArtworkRow, document: ArtworkDocument) -> dict[str, Any]:
    """An artwork with its frames (the body of ``GET /api/artworks/{id}``)."""
    body = artwork_summary(row)
    body["frames"] = document.to_json()["frames"]
    return body
