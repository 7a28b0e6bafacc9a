"""ASGI entry point for servers started by ``pishkhan serve`` (``pishkhan.asgi:app``).

Each worker process builds its own app from the environment; ``serve`` has already migrated the
database and run the first-run bootstrap before starting them.
"""

from __future__ import annotations

from pishkhan.app import create_app
from pishkhan.core.logging import configure_logging
from pishkhan.settings import Settings

_settings = Settings.from_env().with_secrets()
configure_logging(_settings.log_level)
app = create_app(_settings)
