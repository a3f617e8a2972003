"""Who may scrape ``GET /metrics``: the scrape token, or an address in ``metrics_allow``."""

from __future__ import annotations

import hmac
from collections.abc import Mapping

from asciihub.errors import Forbidden
from asciihub.services.networks import parse_address_list
from asciihub.settings import Settings

METRICS_PATH = "/metrics"


class MetricsGuard:
    """Checks a scrape against ``metrics_token`` and ``metrics_allow``."""

    def __init__(self, settings: Settings) -> None:
        self.token = settings.metrics_token.encode()
        self.allowed = parse_address_list(settings.metrics_allow, "metrics_allow")

    def check(self, client: str, headers: Mapping[str, str]) -> None:
        """Return when the scrape may go on; Forbidden naming both ways otherwise."""
        if self.token:
            kind, _, value = headers.get("authorization", "").strip().partition(" ")
            if kind.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), self.token):
                return
        if client in self.allowed:
            return
        message = (
            "/metrics needs the scrape token (Authorization: Bearer, setting metrics_token) "
            "or a client address listed in metrics_allow"
        )
        raise Forbidden(message, code="metrics_forbidden")
