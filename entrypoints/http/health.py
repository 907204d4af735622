"""Liveness (/health) and readiness (/ready)."""

from __future__ import annotations

import logging
from importlib.metadata import PackageNotFoundError, version

from dependency_injector.wiring import Provide, inject
from quart import Blueprint
from quart_schema import validate_response

from botgpt.domain.fallback import readiness_of
from botgpt.entrypoints.http.health_dto import HealthOut, ReadyOut
from botgpt.entrypoints.http.openapi import operation
from botgpt.ports.chat import ChatModel
from botgpt.ports.stores import ConversationStore

blueprint = Blueprint("health", __name__)
log = logging.getLogger(__name__)


def _version() -> str:
    try:
        return version("botgpt")
    except PackageNotFoundError:
        return "0+unknown"


@blueprint.get("/health")
@operation("Liveness")
@validate_response(HealthOut)
async def health() -> HealthOut:
    """Liveness: the process answers. Touches neither the store nor the model."""
    return HealthOut(status="healthy", service="botgpt", version=_version())


@blueprint.get("/ready")
@operation("Readiness")
@validate_response(ReadyOut, 200)
@validate_response(ReadyOut, 503)
@inject
async def ready(
    store: ConversationStore = Provide["store"], chat: ChatModel = Provide["chat_model"]
) -> tuple[ReadyOut, int]:
    """Readiness: the store answers and the chat model is loaded."""
    checks = {"store": await _store_check(store), "model": await readiness_of(chat)}
    ok = all(value == "ok" for value in checks.values())
    return ReadyOut(status="ready" if ok else "not_ready", checks=checks), 200 if ok else 503


async def _store_check(store: ConversationStore) -> str:
    try:
        await store.ping()
    except Exception:
        log.exception("readiness: the store did not answer")
        return "unreachable"
    return "ok"
