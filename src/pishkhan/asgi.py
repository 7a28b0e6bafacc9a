"""ASGI entry point for servers started by ``pishkhan serve`` (``pishkhan.asgi:app``).

Each worker process builds its own app from the environment; ``serve`` has already migrated the
database, checked (or recorded) the deployment's secrets and run the first-run bootstrap before
starting them. Each worker checks its secrets again (``create_app``).
"""

from __future__ import annotations

import gc

from pishkhan.app import create_app
from pishkhan.core.logging import configure_logging
from pishkhan.settings import Settings

_settings = Settings.from_env()
configure_logging(_settings.log_level)
app = create_app(_settings)

# Everything alive now (modules, tables, the app) lives as long as the process: move it out of
# the cyclic collector's reach, or every full collection walks it all and pauses the event loop
# for tens of milliseconds (measured: 30-60 ms every few seconds under the Jibit benchmark).
gc.collect()
gc.freeze()
