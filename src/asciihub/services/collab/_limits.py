"""The caps an editing room enforces (settings fill them in)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from asciihub.engine.document import DocumentLimits
from asciihub.errors import InvalidInput


@dataclass(frozen=True)
class EditLimits:
    """Caps on ops and on the document a room may grow into.

    ``max_width``/``max_height``/``max_frames`` are the document caps; ``max_text_chars``
    is the document's character budget (``max_document_chars``): every live frame
    counts ``height * (width + 1) - 1`` characters, as ``build_document`` counts them,
    and it also caps the text of one ``frame_add``. ``max_cells_per_op`` caps the cells
    of one stroke; ``max_undo_depth`` the undo (and redo) entries kept per user.
    """

    max_width: int = 500
    max_height: int = 300
    max_frames: int = 1000
    max_cells_per_op: int = 10_000
    max_text_chars: int = 4_000_000
    max_undo_depth: int = 100

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                message = f"edit limit {item.name} must be a whole number of at least 1"
                raise InvalidInput(message, code="invalid_limits")

    @classmethod
    def from_document_limits(
        cls, limits: DocumentLimits, *, max_cells_per_op: int, max_undo_depth: int = 100
    ) -> EditLimits:
        """Edit limits matching a document's limits plus the per-op and undo caps."""
        return cls(
            max_width=limits.max_width,
            max_height=limits.max_height,
            max_frames=limits.max_frames,
            max_cells_per_op=max_cells_per_op,
            max_text_chars=limits.max_chars,
            max_undo_depth=max_undo_depth,
        )

    def document_limits(self) -> DocumentLimits:
        """The document limits these edit limits keep a rendered document within."""
        return DocumentLimits(
            max_frames=self.max_frames,
            max_width=self.max_width,
            max_height=self.max_height,
            max_chars=self.max_text_chars,
        )

    def to_json(self) -> dict[str, int]:
        """The limits as JSON-ready data (kept in snapshots)."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: Any) -> EditLimits:
        """Limits from ``to_json`` output; raises ``InvalidInput`` on anything else."""
        names = {item.name for item in fields(cls)}
        if not isinstance(data, dict) or set(data) != names:
            message = f"snapshot limits must be an object with exactly {', '.join(sorted(names))}"
            raise InvalidInput(message, code="invalid_snapshot")
        try:
            return cls(**data)
        except InvalidInput as error:
            message = f"snapshot limits are invalid: {error.message}"
            raise InvalidInput(message, code="invalid_snapshot") from None


def frame_chars(width: int, height: int) -> int:
    """Characters one frame of ``width`` x ``height`` counts against the budget."""
    return height * (width + 1) - 1
