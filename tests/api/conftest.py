"""The API suites act as a logged-in user: writes need a session or a token."""

from __future__ import annotations

from typing import Any

import pytest

from tests.users import signup


@pytest.fixture
async def client(client: Any) -> Any:
    """The app's client, signed up and logged in as a fresh user (``client.user``)."""
    client.user = await signup(client)
    return client
