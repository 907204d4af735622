"""Bearer-key authentication and per-key limits, before every request but /health and the
chat page's static files."""

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
PUBLIC_ENDPOINTS = frozenset({"health.health", "web.page", "web.asset"})
F = TypeVar("F", bound=Callable[..., Any])


def spends_tokens(view: F) -> F:
    """Marks a route that calls the model: the key's daily token limit applies to it."""
    view.spends_tokens = True  # type: ignore[attr-defined]
    return view


async def authenticate() -> None:
    """Find the request's key; 401 without a valid one once keys exist; then apply limits."""
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
    usage: UsageService = current_app.extensions["botgpt.usage"]
    await usage.admit(key, spends_tokens=bool(getattr(view, "spends_tokens", False)))


def install_auth(app: Quart, keys: KeyService, usage: UsageService) -> None:
    """Authenticate every request (after the request id is assigned)."""
    app.extensions["botgpt.keys"] = keys
    app.extensions["botgpt.usage"] = usage
    app.before_request(authenticate)
