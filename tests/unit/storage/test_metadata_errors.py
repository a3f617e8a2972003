"""Which driver errors of the metadata database mean "unavailable" (503), found by R3.

PostgreSQL in crash recovery refuses connections with SQLSTATE 57P03 ("the database
system is starting up"), which SQLAlchemy's asyncpg dialect wraps in a bare
``DBAPIError``; it used to escape as a 500.
"""

from __future__ import annotations

import asyncpg
import pytest
import sqlalchemy as sa

from asciihub.errors import DependencyDown
from asciihub.storage.metadata.database import translate_errors


@pytest.mark.parametrize(
    "error",
    [
        asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
        asyncpg.exceptions.AdminShutdownError("terminating connection"),
        asyncpg.exceptions.CrashShutdownError("terminating connection"),
        asyncpg.exceptions.ConnectionFailureError("connection failure"),
    ],
    ids=lambda error: type(error).__name__,
)
def test_a_server_away_or_starting_up_is_unavailable(error: Exception) -> None:
    wrapped = sa.exc.DBAPIError("SELECT 1", None, error)
    with pytest.raises(DependencyDown) as raised, translate_errors():
        raise wrapped from error
    assert raised.value.status == 503
    assert raised.value.retry_after


def test_other_driver_errors_are_not_outages() -> None:
    error = asyncpg.exceptions.PostgresSyntaxError("syntax error")
    with pytest.raises(sa.exc.DBAPIError), translate_errors():
        raise sa.exc.DBAPIError("SELEC 1", None, error) from error
