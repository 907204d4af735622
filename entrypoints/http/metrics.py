"""``/metrics``: Prometheus' text format, for operators. Not part of the API: it is hidden from
the OpenAPI document, never counts against a key's limits, and is guarded by its own setting,
``metrics_access`` (open, any valid API key, or off; ``auto`` decides by the bind address).

Most series are counted as things happen (in every worker, summed at the scrape); the
engine's load and the ingestion queue are asked for at the scrape itself, with a short
timeout, because only the engine and the store know them.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from dependency_injector.wiring import Provide, inject
from quart import Blueprint, Response, current_app, request
from quart_schema import hide

from botgpt.adapters.prometheus_metrics import CONTENT_TYPE, PrometheusMetrics, engine_families, ingestion_families
from botgpt.domain.clock import wall_now
from botgpt.domain.errors import Unauthorized
from botgpt.domain.keys import KeyService
from botgpt.entrypoints.http.errors import error_response
from botgpt.ports.chat import ChatModel
from botgpt.ports.documents import DocumentStore
from botgpt.ports.telemetry import Metrics

blueprint = Blueprint("metrics", __name__)
log = logging.getLogger(__name__)
ACCESS_KEY = "botgpt.metrics_access"
ENGINE_TIMEOUT = 0.5  # a scrape must answer even when the engine does not


@blueprint.get("/metrics")
@hide
@inject
async def metrics(
    exporter: Metrics = Provide["metrics"],
    chat: ChatModel = Provide["chat_model"],
    documents: DocumentStore = Provide["document_store"],
    keys: KeyService = Provide["keys"],
) -> Response:
    """Every metric, in Prometheus' text exposition format."""
    access = current_app.extensions.get(ACCESS_KEY, "key")
    if access == "off" or not isinstance(exporter, PrometheusMetrics):
        return error_response(404, "not_found", "no such endpoint (metrics_access is off)")
    if access == "key":
        await _require_key(keys)
    families = engine_families(await engine_status(chat)) + await _ingestion(documents)
    body = await asyncio.to_thread(exporter.exposition, families)
    return Response(body, content_type=CONTENT_TYPE)


async def _require_key(keys: KeyService) -> None:
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    key = await keys.authenticate(secret.strip()) if scheme.lower() == "bearer" else None
    if key is None:
        raise Unauthorized(
            "/metrics needs a valid API key here (metrics_access): send Authorization: Bearer <key>"
            " (create one with: botgpt keys create --user metrics)"
        )


async def engine_status(chat: ChatModel) -> dict[str, Any] | None:
    """The first local engine's status among the chat chain's models; None without one."""
    for model in getattr(chat, "models", (chat,)):
        ask = getattr(model, "engine_status", None)
        if ask is not None:
            status: dict[str, Any] = await ask(ENGINE_TIMEOUT)
            return status
    return None


async def _ingestion(documents: DocumentStore) -> list[Any]:
    now = wall_now()
    try:
        return ingestion_families(await documents.job_counts(now), now)
    except Exception:
        # The scrape still tells everything else; the store's failure is in /ready and the log.
        log.warning("metrics: the store did not tell the ingestion queue", exc_info=True)
        return []
