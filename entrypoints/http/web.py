"""The built-in chat page at ``/``: static files only, a client of the public API.

The page and its assets are public (the browser must load them before it can ask for a
key); every piece of data it shows comes from the API, with the caller's key.
"""

from __future__ import annotations

from pathlib import Path

from quart import Blueprint, abort, send_from_directory
from quart.typing import ResponseReturnValue
from quart_schema import hide

UI = Path(__file__).parent / "static" / "ui"
UI_FILES = frozenset({"app.js", "app.css", "markdown.js", "favicon.svg"})

blueprint = Blueprint("web", __name__)


@blueprint.get("/")
async def page() -> ResponseReturnValue:
    """The chat page."""
    response = await send_from_directory(str(UI), "index.html")
    # The page runs only its own scripts: an answer that smuggles markup cannot add one.
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    )
    return response


@blueprint.get("/ui/<name>")
async def asset(name: str) -> ResponseReturnValue:
    """One of the page's scripts, its stylesheet or its icon."""
    if name not in UI_FILES:
        abort(404)
    return await send_from_directory(str(UI), name)


@blueprint.get("/favicon.ico")
@hide  # a browser's request, not part of the API
async def favicon() -> ResponseReturnValue:
    """The page's SVG icon: browsers ask for /favicon.ico whatever the page links."""
    return await send_from_directory(str(UI), "favicon.svg")
