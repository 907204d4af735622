"""ASGI entry for process managers: ``hypercorn botgpt.entrypoints.http.asgi:app``.

Building the app reads configuration only; stores and models start with the server.
"""

from botgpt.entrypoints.container import build_container
from botgpt.entrypoints.http.app import create_app
from botgpt.entrypoints.logs import configure_logging
from botgpt.entrypoints.settings import Settings

_settings = Settings.load()
configure_logging(_settings, server=True)
app = create_app(build_container(_settings))
