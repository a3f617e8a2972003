"""Typed access to what the app's lifespan built."""

from __future__ import annotations

from starlette.requests import HTTPConnection

from asciihub.api.metrics import Metrics
from asciihub.bootstrap import Services


def services(connection: HTTPConnection) -> Services:
    """The services of this app."""
    built: Services = connection.app.state.services
    return built


def metrics(connection: HTTPConnection) -> Metrics:
    """The metrics registry of this app."""
    registry: Metrics = connection.app.state.metrics
    return registry
