"""Swagger UI and ReDoc assets served by the app itself, so /docs and /redoc work offline.

Swagger UI comes from the swagger-ui-bundle-v2 package. ReDoc's standalone bundle (2.5.2,
MIT) and its logo are vendored in ``static/`` from the flask-openapi3-redoc 2.5.2 wheel, with
one change: the footer logo it fetched from Redocly's CDN is served from here instead.
"""

from __future__ import annotations

from pathlib import Path

from quart import Blueprint, Quart, abort, send_from_directory
from quart.typing import ResponseReturnValue
from swagger_ui_bundle import swagger_ui_path

ASSETS_URL = "/docs/assets"
STATIC = Path(__file__).parent / "static"
ASSET_DIRECTORIES = {
    "swagger-ui-bundle.js": Path(swagger_ui_path),
    "swagger-ui.css": Path(swagger_ui_path),
    "redoc.standalone.js": STATIC,
    "redoc-logo.svg": STATIC,
}

blueprint = Blueprint("docs_assets", __name__)


@blueprint.get(f"{ASSETS_URL}/<name>")
async def asset(name: str) -> ResponseReturnValue:
    """One file of the bundled documentation UIs."""
    if name not in ASSET_DIRECTORIES:
        abort(404)
    return await send_from_directory(str(ASSET_DIRECTORIES[name]), name)


def use_bundled_docs(app: Quart) -> None:
    """Point quart-schema's /docs and /redoc pages at the bundled assets instead of a CDN."""
    app.config["QUART_SCHEMA_SWAGGER_JS_URL"] = f"{ASSETS_URL}/swagger-ui-bundle.js"
    app.config["QUART_SCHEMA_SWAGGER_CSS_URL"] = f"{ASSETS_URL}/swagger-ui.css"
    app.config["QUART_SCHEMA_REDOC_JS_URL"] = f"{ASSETS_URL}/redoc.standalone.js"
    app.register_blueprint(blueprint)
