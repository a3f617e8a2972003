"""An app factory for process managers: Settings from the environment alone.

``asciihub serve --workers N`` hands this to uvicorn, which imports it in each worker
process; gunicorn or any ASGI server can use it the same way
(``asciihub.api.asgi:app_from_environment``, as a factory).
"""

from __future__ import annotations

from asciihub.api.app import AsciihubApp, create_app
from asciihub.settings import load_settings


def app_from_environment() -> AsciihubApp:
    """The app, configured by ``ASCIIHUB_CONFIG`` and ``ASCIIHUB_*`` variables."""
    return create_app(load_settings())
