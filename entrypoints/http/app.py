"""The Quart app factory."""

from __future__ import annotations

import logging
import os

from quart import Quart
from quart_schema import Info, QuartSchema, hide

from botgpt.domain.keys import KeyService
from botgpt.entrypoints.container import Container, build_container
from botgpt.entrypoints.core import provided, start_resources, stop_resources
from botgpt.entrypoints.http import (
    bodies,
    branches,
    collections,
    conversations,
    docs,
    documents,
    draining,
    errors,
    health,
    metrics,
    openai_api,
    openai_embeddings,
    routes,
    strict_bodies,
    telemetry,
    transfer,
    usage,
    web,
)
from botgpt.entrypoints.http.auth import install_auth
from botgpt.entrypoints.http.openapi import CompleteOpenAPIProvider

ROUTE_MODULES = (
    routes,
    conversations,
    branches,
    transfer,
    documents,
    collections,
    health,
    usage,
    openai_api,
    openai_embeddings,
    metrics,
)
BLUEPRINTS = (
    transfer.blueprint,
    conversations.blueprint,
    branches.blueprint,
    documents.documents,
    documents.search,
    collections.blueprint,
    health.blueprint,
    usage.blueprint,
    openai_api.blueprint,
    openai_embeddings.blueprint,
    metrics.blueprint,
    web.blueprint,
)
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
        redoc_ui_path="/redoc",
        openapi_provider_class=CompleteOpenAPIProvider,
        scalar_ui_path=None,
    )
    docs.use_bundled_docs(app)
    for static_route in (docs.asset, web.page, web.asset):
        hide(static_route)
    errors.install_error_handling(
        app, upload_mb=settings.max_upload_mb, import_mb=settings.max_import_mb, request_kb=settings.max_request_kb
    )
    telemetry.install_telemetry(app, container.metrics())
    app.extensions[metrics.ACCESS_KEY] = metrics_access(settings.metrics_access)
    bodies.install_body_draining(app)
    draining.install_draining(app)
    app.url_map.converters.update(routes.CONVERTERS)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    strict_bodies.install_strict_json_bodies(app)
    app.extensions["botgpt.container"] = container
    _manage_lifecycle(app, container)
    return app


LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
BIND_HOST_VARIABLE = "BOTGPT_BIND_HOST"
BIND_URL_VARIABLE = "BOTGPT_BIND_URL"


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable from this machine only."""
    return host in LOOPBACK_HOSTS or host.startswith("127.")


def metrics_access(setting: str) -> str:
    """``metrics_access`` in force: ``auto`` is ``open`` when ``botgpt serve`` listens on
    loopback only, ``key`` otherwise (or when another server runs the app: its bind is unknown)."""
    if setting != "auto":
        return setting
    host = os.environ.get(BIND_HOST_VARIABLE)
    return "open" if host is not None and is_loopback(host) else "key"


async def warn_if_open(keys: KeyService) -> None:
    """Open mode (no key yet) exposed beyond this machine deserves a loud warning."""
    host = os.environ.get(BIND_HOST_VARIABLE, "127.0.0.1")
    if not await keys.keys_required():
        message = "no API key exists: botgpt runs in open single-user mode (create one: botgpt keys create --user NAME)"
        if is_loopback(host):
            log.info(message)
        else:
            log.warning("%s; it is bound to %s, reachable from other machines", message, host)


def _manage_lifecycle(app: Quart, container: Container) -> None:
    @app.before_serving
    async def start() -> None:
        container.wire(modules=list(ROUTE_MODULES))
        await start_resources(container)
        app.extensions[telemetry.TRACER_KEY] = await provided(container.tracer)
        keys, usage = await provided(container.keys), await provided(container.usage)
        install_auth(app, keys, usage)
        await warn_if_open(keys)
        where = os.environ.get(BIND_URL_VARIABLE)
        log.info("serving on %s", where) if where else log.info("botgpt is serving")

    @app.after_serving
    async def stop() -> None:
        await stop_resources(container)
        container.unwire()
        log.info("botgpt stopped")
