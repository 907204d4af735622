"""Bearer-key authentication and per-key limits, before every request but the public ones:
liveness and readiness, the chat page's static files, and the API documentation."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from quart import Quart, current_app, g, request

from botgpt.domain.errors import Unauthorized
from botgpt.domain.keys import KeyService
from botgpt.domain.usage import UsageService
from botgpt.entrypoints.http.identity import Principal

log = logging.getLogger("botgpt.http")
# None of these holds any user's data. Probes (a container HEALTHCHECK, a load balancer) carry
# no key, and people read the documentation, and fetch the page, before they have one.
PUBLIC_ENDPOINTS = frozenset(
    {
        "health.health",
        "health.ready",
        "web.page",
        "web.asset",
        "web.favicon",
        "openapi",
        "swagger_ui",
        "redoc_ui",
        "docs_assets.asset",
        "metrics.metrics",  # it checks metrics_access itself, and counts against no limit
    }
)
# What a key's requests-per-minute limit counts: the requests that make botgpt do something
# (write, upload, search, answer). Reads are not counted: they only look up the caller's own
# data, and a client's reads follow from its actions (the page refreshes the list, the branch
# alternatives and the usage after each answer, and polls an upload's status), so counting them
# would make "5 requests a minute" mean one or two answers. Model calls are also held to the
# daily token limit.
UNCOUNTED_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
F = TypeVar("F", bound=Callable[..., Any])


def spends_tokens(view: F) -> F:
    """Marks a route that calls the model: the key's daily token limit applies to it."""
    view.spends_tokens = True  # type: ignore[attr-defined]
    return view


async def authenticate() -> None:
    """Find the request's key; 401 without a valid one once keys exist; then apply limits
    to the requests they count."""
    g.principal = None
    if request.endpoint in PUBLIC_ENDPOINTS:
        return
    keys: KeyService = current_app.extensions["botgpt.keys"]
    if not await keys.keys_required():
        return
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    key = await keys.authenticate(secret.strip()) if scheme.lower() == "bearer" else None
    if key is None:
        raise Unauthorized("a valid API key is required: send Authorization: Bearer <key>")
    g.principal = Principal(key.user_id, key)
    view = current_app.view_functions.get(request.endpoint or "")
    spends = bool(getattr(view, "spends_tokens", False))
    if spends or request.method not in UNCOUNTED_METHODS:
        usage: UsageService = current_app.extensions["botgpt.usage"]
        await usage.admit(key, spends_tokens=spends)


def install_auth(app: Quart, keys: KeyService, usage: UsageService) -> None:
    """Authenticate every request (after the request id is assigned)."""
    app.extensions["botgpt.keys"] = keys
    app.extensions["botgpt.usage"] = usage
    app.before_request(authenticate)
