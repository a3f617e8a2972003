"""User preferences (default style, width, colour mode, theme) and avatars.

Avatars are decoded only from an allowlist of formats, refused above a pixel limit
read from the header (before any pixel is decoded), cropped square, scaled and
re-encoded to PNG at ``avatars/{user_id}.png``: nothing of the upload is kept.
"""

from __future__ import annotations

import asyncio
import io
import re
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from PIL import Image

from asciihub.engine.charsets import COLOR_MODES
from asciihub.errors import InvalidInput, NotFound, TooLarge, UnsupportedMedia
from asciihub.services.upload_sniff import UNREADABLE_IMAGE
from asciihub.storage.metadata.account_types import AccountRepository, PreferencesRow
from asciihub.storage.objects.keys import avatar_key
from asciihub.storage.objects.protocol import HttpMetadata, ObjectStore

THEMES = ("system", "light", "dark")
AVATAR_FORMATS = ("PNG", "JPEG", "GIF", "WEBP")
_STYLE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
PNG = HttpMetadata(content_type="image/png")


@dataclass(frozen=True)
class AvatarLimits:
    """Caps on avatar uploads."""

    max_bytes: int
    max_pixels: int
    size: int


def _check_preferences(payload: Any, max_width: int) -> PreferencesRow:
    if not isinstance(payload, dict):
        message = 'send {"style", "width", "color_mode", "theme"} (each may be null)'
        raise InvalidInput(message)
    unknown = sorted(set(payload) - {"style", "width", "color_mode", "theme"})
    if unknown:
        message = f"unknown fields: {', '.join(unknown)}"
        raise InvalidInput(message, code="unknown_field")
    style, width = payload.get("style"), payload.get("width")
    color_mode, theme = payload.get("color_mode"), payload.get("theme")
    if style is not None and (not isinstance(style, str) or not _STYLE_RE.match(style)):
        message = "style must be a style name (a-z, 0-9, '_', '-'; up to 32 characters)"
        raise InvalidInput(message, code="invalid_style")
    if width is not None and (
        isinstance(width, bool) or not isinstance(width, int) or not 8 <= width <= max_width
    ):
        message = f"width must be a whole number from 8 to {max_width}"
        raise InvalidInput(message, code="invalid_width")
    if color_mode is not None and color_mode not in COLOR_MODES:
        message = f"color_mode must be one of {', '.join(COLOR_MODES)}"
        raise InvalidInput(message, code="invalid_color_mode")
    if theme is not None and theme not in THEMES:
        message = f"theme must be one of {', '.join(THEMES)}"
        raise InvalidInput(message, code="invalid_theme")
    return PreferencesRow(style=style, width=width, color_mode=color_mode, theme=theme)


def reencode_avatar(data: bytes, limits: AvatarLimits) -> bytes:
    """A square PNG of ``limits.size`` pixels from an uploaded image; 4xx when unsafe."""
    if len(data) > limits.max_bytes:
        message = f"the avatar is larger than {limits.max_bytes} bytes"
        raise TooLarge(message, code="avatar_too_large")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=AVATAR_FORMATS) as image:
                width, height = image.size
                if width * height > limits.max_pixels:
                    message = (
                        f"the avatar has {width}x{height} pixels; the limit is {limits.max_pixels}"
                    )
                    raise TooLarge(message, code="avatar_too_many_pixels")
                image.seek(0)
                rgba = image.convert("RGBA")
    except UNREADABLE_IMAGE:
        message = f"the avatar is not a readable {', '.join(AVATAR_FORMATS)} image"
        raise UnsupportedMedia(message, code="invalid_image") from None
    side = min(rgba.size)
    left, top = (rgba.width - side) // 2, (rgba.height - side) // 2
    square = rgba.crop((left, top, left + side, top + side))
    square = square.resize((limits.size, limits.size), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    square.save(out, format="PNG", optimize=True)
    return out.getvalue()


class PreferenceService:
    """Read and change a user's preferences and avatar."""

    def __init__(
        self,
        *,
        accounts: AccountRepository,
        objects: ObjectStore,
        avatar_limits: AvatarLimits,
        max_width: int,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.accounts = accounts
        self.objects = objects
        self.avatar_limits = avatar_limits
        self.max_width = max_width
        self.clock = clock

    async def get(self, user_id: str) -> dict[str, Any]:
        """The user's preferences as JSON (None where never set)."""
        return asdict(await self.accounts.get_preferences(user_id))

    async def put(self, user_id: str, payload: Any) -> dict[str, Any]:
        """Replace the user's preferences; the stored ones."""
        prefs = _check_preferences(payload, self.max_width)
        await self.accounts.put_preferences(user_id, prefs, self.clock())
        return asdict(prefs)

    async def set_avatar(self, user_id: str, data: bytes) -> None:
        """Re-encode and store an uploaded avatar."""
        png = await asyncio.to_thread(reencode_avatar, data, self.avatar_limits)
        await self.objects.put(avatar_key(user_id), png, http_metadata=PNG)
        await self.accounts.set_avatar_updated(user_id, self.clock())

    async def delete_avatar(self, user_id: str) -> None:
        """Remove the avatar."""
        await self.objects.delete(avatar_key(user_id))
        await self.accounts.set_avatar_updated(user_id, None)

    async def avatar(self, handle: str) -> tuple[bytes, str]:
        """(PNG, etag) of a user's avatar; NotFound when there is none."""
        account = await self.accounts.get_by_handle(handle)
        stored = await self.objects.get(avatar_key(account.id)) if account else None
        if stored is None:
            message = "this user has no avatar"
            raise NotFound(message, code="avatar_not_found")
        return stored.data, stored.info.http_etag
