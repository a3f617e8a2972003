"""Checking what a client sends to create or change an artwork.

Requests are explicit: unknown fields are refused (no mass assignment), every text
field is checked for control characters and length, tags are normalised.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from asciihub.engine.document import ArtworkDocument, DocumentLimits, build_document, check_text
from asciihub.errors import InvalidInput
from asciihub.storage.metadata.protocol import Visibility

VISIBILITIES: tuple[Visibility, ...] = ("private", "unlisted", "public")
CREATE_FIELDS = frozenset(
    {"title", "prompt", "visibility", "tags", "fps", "width", "height", "frames"}
)
PATCH_FIELDS = CREATE_FIELDS
_TAG_RE = re.compile(r"^[\w][\w+#.-]*$", re.UNICODE)


@dataclass(frozen=True)
class InputLimits:
    """Caps for artwork requests (filled from Settings)."""

    document: DocumentLimits
    max_title_chars: int = 200
    max_prompt_chars: int = 2000
    max_tags: int = 20
    max_tag_chars: int = 40
    default_fps: float = 10.0


@dataclass(frozen=True)
class ArtworkInput:
    """A checked create or patch request; None means "not given"."""

    title: str | None = None
    prompt: str | None = None
    visibility: Visibility | None = None
    tags: tuple[str, ...] | None = None
    document: ArtworkDocument | None = None
    clear_title: bool = False
    clear_prompt: bool = False


def _invalid(message: str, code: str = "invalid_input") -> InvalidInput:
    return InvalidInput(message, code=code)


def _text(payload: Mapping[str, Any], name: str, cap: int) -> tuple[str | None, bool]:
    """(value, cleared): a checked single-line string, or None when absent or null."""
    if name not in payload:
        return None, False
    raw = payload[name]
    if raw is None:
        return None, True
    if not isinstance(raw, str):
        message = f"{name} must be a string"
        raise _invalid(message)
    value = check_text(raw, where=name).strip()
    if len(value) > cap:
        message = f"{name} is {len(value)} characters; the limit is {cap}"
        raise _invalid(message, "too_long")
    if name == "title" and "\n" in value:
        message = "title must be one line"
        raise _invalid(message)
    return (value or None), not value


def _visibility(payload: Mapping[str, Any]) -> Visibility | None:
    raw = payload.get("visibility")
    if raw is None:
        return None
    if raw not in VISIBILITIES:
        message = f"visibility must be one of {', '.join(VISIBILITIES)}"
        raise _invalid(message)
    return cast(Visibility, raw)


def normalise_tags(raw: Any, limits: InputLimits) -> tuple[str, ...]:
    """Lower-cased, de-duplicated tags in their given order; InvalidInput if malformed."""
    if not isinstance(raw, list):
        message = "tags must be a list of strings"
        raise _invalid(message)
    tags: list[str] = []
    for item in raw:
        if not isinstance(item, str):
            message = "tags must be a list of strings"
            raise _invalid(message)
        tag = item.strip().lower().lstrip("#")
        if not tag or len(tag) > limits.max_tag_chars or not _TAG_RE.match(tag):
            message = (
                f"tag {item[:50]!r} is not valid: 1 to {limits.max_tag_chars} letters, digits "
                "or _ + # . - starting with a letter or digit"
            )
            raise _invalid(message, "invalid_tag")
        if tag not in tags:
            tags.append(tag)
    if len(tags) > limits.max_tags:
        message = f"{len(tags)} tags is over the limit of {limits.max_tags}"
        raise _invalid(message, "too_many_tags")
    return tuple(tags)


def _check_fields(payload: Any, allowed: frozenset[str]) -> Mapping[str, Any]:
    if not isinstance(payload, Mapping):
        message = "the request body must be a JSON object"
        raise _invalid(message)
    unknown = sorted(set(payload) - allowed)
    if unknown:
        message = f"unknown fields: {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}"
        raise _invalid(message, "unknown_field")
    return payload


def _document(payload: Mapping[str, Any], limits: InputLimits) -> ArtworkDocument:
    return build_document(
        payload.get("frames"),
        width=payload.get("width"),
        height=payload.get("height"),
        fps=payload.get("fps"),
        limits=limits.document,
        default_fps=limits.default_fps,
    )


def parse_create(payload: Any, limits: InputLimits) -> ArtworkInput:
    """A checked create request; ``frames`` is required, visibility defaults to private."""
    body = _check_fields(payload, CREATE_FIELDS)
    if "frames" not in body:
        message = 'frames is required: a list of {"text", "duration_ms"?}'
        raise _invalid(message, "missing_field")
    title, _ = _text(body, "title", limits.max_title_chars)
    prompt, _ = _text(body, "prompt", limits.max_prompt_chars)
    tags = normalise_tags(body["tags"], limits) if body.get("tags") is not None else ()
    return ArtworkInput(
        title=title,
        prompt=prompt,
        visibility=_visibility(body) or "private",
        tags=tags,
        document=_document(body, limits),
    )


def parse_patch(payload: Any, limits: InputLimits) -> ArtworkInput:
    """A checked patch: only the given fields change; frames replace the whole document."""
    body = _check_fields(payload, PATCH_FIELDS)
    if not body:
        message = "nothing to change: give at least one field"
        raise _invalid(message, "empty_patch")
    document_fields = {"fps", "width", "height"} & set(body)
    if document_fields and "frames" not in body:
        message = f"{', '.join(sorted(document_fields))} can only change together with frames"
        raise _invalid(message)
    title, clear_title = _text(body, "title", limits.max_title_chars)
    prompt, clear_prompt = _text(body, "prompt", limits.max_prompt_chars)
    tags = None
    if "tags" in body:
        tags = normalise_tags(body["tags"] if body["tags"] is not None else [], limits)
    return ArtworkInput(
        title=title,
        prompt=prompt,
        visibility=_visibility(body),
        tags=tags,
        document=_document(body, limits) if "frames" in body else None,
        clear_title=clear_title,
        clear_prompt=clear_prompt,
    )


def check_job_text(fields: Mapping[str, Any]) -> None:
    """Refuse a job request whose text fields would fail later, in the worker.

    Every string value (the JSON body of ``/api/generate``, the form fields of
    ``/api/convert``) must be one line of printable characters: no newline, no
    control character, no bidirectional override. A prompt or title that breaks this
    is refused with 400 before the job is accepted, not failed after it.
    """
    for name, value in fields.items():
        if not isinstance(value, str):
            continue
        check_text(value, where=str(name))
        if "\n" in value or "\r" in value:
            message = f"{name} must be one line (no line breaks)"
            raise _invalid(
                message, f"invalid_{name}" if name in ("prompt", "title") else "multiline_text"
            )
