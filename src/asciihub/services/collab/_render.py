"""Between editing state and artwork documents; the canonical digest of a state.

Foreground colours map to ``Frame.colors``, background colours to
``Frame.backgrounds`` (the same shape); ``_document_backgrounds`` and
``_frame_backgrounds`` are the only places that map backgrounds.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from asciihub.engine.document import ArtworkDocument, DocumentLimits, Frame, build_document

from ._doc import Doc
from ._grid import BLANK, Field, FrameRecord


def _frame_backgrounds(frame: Frame) -> bytes | None:
    """A document frame's per-cell background RGB bytes, if it has any."""
    return frame.backgrounds


def _document_backgrounds(item: dict[str, Any], backgrounds: bytes | None) -> None:
    """Put a frame's background RGB bytes into a ``build_document`` frame item."""
    if backgrounds is not None:
        item["backgrounds"] = base64.b64encode(backgrounds).decode("ascii")


def doc_from_document(document: ArtworkDocument, limits: Any) -> Doc:
    """The editing document of an artwork: frames ``f0``, ``f1``, ... keyed in order."""
    from ._keys import key_between

    doc = Doc(
        limits=limits,
        width=Field(document.width, "", 0),
        height=Field(document.height, "", 0),
    )
    key: str | None = None
    for index, frame in enumerate(document.frames):
        key = key_between(key, None)
        record = FrameRecord(
            id=f"f{index}",
            key=Field(key, "", 0),
            duration_ms=Field(frame.duration_ms, "", 0),
            deleted=Field(False, "", 0),
            base_rows=frame.lines,
            base_cols=document.width,
            base_fg=frame.colors,
            base_bg=_frame_backgrounds(frame),
        )
        doc.frames[record.id] = record
    return doc


def doc_to_document(doc: Doc, *, fps: float, limits: DocumentLimits | None) -> ArtworkDocument:
    """Live frames in key order, clipped to width x height, through ``build_document``."""
    rows, cols = doc.height.value, doc.width.value
    items: list[dict[str, Any]] = []
    for frame in doc.ordered():
        raster = frame.raster(rows, cols)
        item: dict[str, Any] = {
            "text": "\n".join("".join(line) for line in raster.chars),
            "duration_ms": frame.duration_ms.value,
        }
        colors = raster.packed("fg")
        if colors is not None:
            item["colors"] = colors
        _document_backgrounds(item, raster.packed("bg"))
        items.append(item)
    return build_document(items, width=cols, height=rows, fps=fps, limits=limits)


def _frame_rows(frame: FrameRecord) -> list[list[Any]]:
    """Canonical rows ``[row, text, fg, fg_mask, bg, bg_mask]`` (hex) up to the last
    cell that is not blank; rows with none are left out."""
    rows, cols = frame.extent()
    raster = frame.raster(rows, cols)
    out: list[list[Any]] = []
    for row in range(rows):
        text = "".join(raster.chars[row])
        fg_mask, bg_mask = raster.fg_mask[row], raster.bg_mask[row]
        n = max(len(text.rstrip(BLANK)), len(fg_mask.rstrip(b"\x00")), len(bg_mask.rstrip(b"\x00")))
        if n:
            out.append(
                [
                    row,
                    text[:n],
                    raster.fg[row][: 3 * n].hex(),
                    fg_mask[:n].hex(),
                    raster.bg[row][: 3 * n].hex(),
                    bg_mask[:n].hex(),
                ]
            )
    return out


def canonical(doc: Doc) -> dict[str, Any]:
    """The content of a state, independent of how it is stored.

    Width, height and every frame (deleted ones too, and cells clipped by the current
    size, since they can come back) with its key, duration and non-blank cells.
    Writers, seqs and undo stacks are not content.
    """
    return {
        "width": doc.width.value,
        "height": doc.height.value,
        "frames": [
            {
                "id": frame.id,
                "key": frame.key.value,
                "duration_ms": frame.duration_ms.value,
                "deleted": frame.deleted.value,
                "rows": _frame_rows(frame),
            }
            for frame in sorted(doc.frames.values(), key=lambda f: f.id)
        ],
    }


def digest(doc: Doc) -> str:
    """sha256 (hex) of the canonical JSON of ``canonical(doc)``."""
    text = json.dumps(canonical(doc), ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
