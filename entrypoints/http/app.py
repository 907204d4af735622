"""The Quart app factory."""

from __future__ import annotations

import logging

from quart import Quart
from quart_schema import Info, QuartSchema, hide

from botgpt.entrypoints.container import Container, build_container
from botgpt.entrypoints.core import start_resources, stop_resources
from botgpt.entrypoints.http import conversations, docs, documents, errors, health

ROUTE_MODULES = (conversations, documents, health)
BLUEPRINTS = (conversations.blueprint, documents.documents, documents.search, health.blueprint)
log = logging.getLogger("botgpt")


def create_app(container: Container | None = None) -> Quart:
    """A botgpt app on ``container`` (by default, built from file and environment settings).

    Stores and models start in ``before_serving`` and stop in ``after_serving``; tests
    drive this with ``async with app.test_app()``.
    """
    container = container or build_container()
    settings = container.settings()
    app = Quart(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_request_kb * 1024
    QuartSchema(
        app,
        info=Info(title="botgpt", version="0.1.0"),
        conversion_preference="msgspec",
        redoc_ui_path=None,
        scalar_ui_path=None,
    )
    docs.use_bundled_swagger(app)
    hide(docs.asset)
    # Multipart framing adds a little to the file itself.
    errors.install_error_handling(app, upload_limit=(settings.max_upload_mb << 20) + (64 << 10))
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    app.extensions["botgpt.container"] = container
    _manage_lifecycle(app, container)
    return app


def _manage_lifecycle(app: Quart, container: Container) -> None:
    @app.before_serving
    async def start() -> None:
        container.wire(modules=list(ROUTE_MODULES))
        await start_resources(container)
        log.info("botgpt is serving")

    @app.after_serving
    async def stop() -> None:
        await stop_resources(container)
        container.unwire()
