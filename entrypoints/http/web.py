"""The built-in chat page at ``/``: static files only, a client of the public API.

The page and its assets are public (the browser must load them before it can ask for a
key); every piece of data it shows comes from the API, with the caller's key.
"""

from __future__ import annotations

from pathlib import Path

from quart import Blueprint, abort, send_from_directory
from quart.typing import ResponseReturnValue

UI = Path(__file__).parent / "static" / "ui"
UI_FILES = frozenset({"app.js", "app.css", "markdown.js"})

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
    """One of the page's scripts or its stylesheet."""
    if name not in UI_FILES:
        abort(404)
    return await send_from_directory(str(UI), name)
