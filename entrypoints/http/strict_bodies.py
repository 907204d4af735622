"""JSON bodies hold the types the OpenAPI document says, not values that can be coerced to them.

quart-schema converts a body with msgspec's lax rules (``strict=False``, which query strings
and forms need: their values are all text), so a JSON ``"stream": 0`` or ``"k": "5"`` would
pass as ``false`` and ``5``. The document says boolean and integer, and clients (and
schemathesis) rely on it, so each JSON body route first decodes its body strictly: a wrong
type answers 422 validation_error, as a missing field does.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import msgspec
from quart import Quart, request
from quart_schema import DataSource, RequestSchemaValidationError
from quart_schema.validation import QUART_SCHEMA_REQUEST_ATTRIBUTE


def _integral_floats_as_ints(value: Any) -> Any:
    # JSON Schema counts 5.0 as an integer (and so does msgspec's lax conversion): keep that.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_integral_floats_as_ints(item) for item in value]
    if isinstance(value, dict):
        return {key: _integral_floats_as_ints(item) for key, item in value.items()}
    return value


def strictly_typed(view: Callable[..., Any], model: type) -> Callable[..., Any]:
    """``view``, refusing a JSON body whose values are not of ``model``'s declared types."""

    @functools.wraps(view)
    async def checked(*args: Any, **kwargs: Any) -> Any:
        if request.is_json:
            try:
                body = msgspec.json.decode(await request.get_data())
                checked_body = _integral_floats_as_ints(body)
            except (msgspec.DecodeError, RecursionError):
                # Not JSON, or nested too deep: quart-schema's own parsing answers the 4xx.
                checked_body = None
            if checked_body is not None:
                try:
                    msgspec.convert(checked_body, model, strict=True)
                except msgspec.ValidationError as error:
                    raise RequestSchemaValidationError(error) from None
                except RecursionError:
                    pass  # as above: left to quart-schema's lax conversion
        return await view(*args, **kwargs)

    return checked


def install_strict_json_bodies(app: Quart) -> None:
    """Wrap every registered JSON body route (call after the blueprints are registered).

    The check runs inside the view, so after authentication: a caller without a key gets 401,
    not a description of the body it sent."""
    for endpoint, view in list(app.view_functions.items()):
        declared = getattr(view, QUART_SCHEMA_REQUEST_ATTRIBUTE, None)
        if declared is not None and declared[1] == DataSource.JSON:
            app.view_functions[endpoint] = strictly_typed(view, declared[0])
