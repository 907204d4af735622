"""Swagger UI assets served from the swagger-ui-bundle-v2 package, so /docs works offline."""

from __future__ import annotations

from quart import Blueprint, Quart, abort, send_from_directory
from quart.typing import ResponseReturnValue
from swagger_ui_bundle import swagger_ui_path

ASSETS_URL = "/docs/assets"
ASSET_FILES = frozenset({"swagger-ui-bundle.js", "swagger-ui.css"})

blueprint = Blueprint("docs_assets", __name__)


@blueprint.get(f"{ASSETS_URL}/<name>")
async def asset(name: str) -> ResponseReturnValue:
    """One file of the bundled Swagger UI."""
    if name not in ASSET_FILES:
        abort(404)
    return await send_from_directory(str(swagger_ui_path), name)


def use_bundled_swagger(app: Quart) -> None:
    """Point quart-schema's /docs page at the bundled assets instead of a CDN."""
    app.config["QUART_SCHEMA_SWAGGER_JS_URL"] = f"{ASSETS_URL}/swagger-ui-bundle.js"
    app.config["QUART_SCHEMA_SWAGGER_CSS_URL"] = f"{ASSETS_URL}/swagger-ui.css"
    app.register_blueprint(blueprint)
