"""Who is asking: turning a request into a Principal.

Until accounts exist every API request acts as the built-in local user, which owns
what is created (single-user mode). This module is the one seam accounts replace.
"""

from __future__ import annotations

from starlette.requests import HTTPConnection

from asciihub.services.principals import LOCAL, Principal


async def principal_for(connection: HTTPConnection) -> Principal:
    """The principal a request or WebSocket acts for."""
    return LOCAL
