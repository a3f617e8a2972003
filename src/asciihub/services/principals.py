"""Who is asking: the principal every service call acts for."""

from __future__ import annotations

from dataclasses import dataclass, field

LOCAL_USER_ID = "local"


@dataclass(frozen=True)
class Principal:
    """An authenticated user (``user_id``) or anonymous (``user_id`` None)."""

    user_id: str | None = None
    scopes: frozenset[str] = field(default_factory=lambda: frozenset({"read", "write"}))

    @property
    def is_anonymous(self) -> bool:
        """True when nobody is logged in."""
        return self.user_id is None

    def can_write(self) -> bool:
        """True when the principal may change things."""
        return self.user_id is not None and "write" in self.scopes


ANONYMOUS = Principal(user_id=None, scopes=frozenset())
LOCAL = Principal(user_id=LOCAL_USER_ID)
