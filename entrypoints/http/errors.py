"""Every failure becomes ``{"error": {"code", "message", "request_id"}}``.

Domain errors map to statuses here and only here. Clients never see a stack trace or an
internal message: unexpected faults answer a generic 500 and are logged with the request id.
"""

from __future__ import annotations

import json
import logging
import math
import re
import uuid
from typing import Any, ClassVar

import attrs
from quart import Quart, Request, Response, g, request
from quart_schema import RequestSchemaValidationError
from werkzeug.exceptions import BadRequest, HTTPException

from botgpt.domain.errors import BotgptError, ErrorKind, InvalidRequest

log = logging.getLogger("botgpt.http")

REQUEST_ID_HEADER = "X-Request-ID"
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")

# The one place where a domain error becomes a status. A test checks that every kind has one.
STATUS_OF_KIND: dict[ErrorKind, int] = {
    ErrorKind.MALFORMED: 400,
    ErrorKind.UNAUTHENTICATED: 401,
    ErrorKind.FORBIDDEN: 403,
    ErrorKind.NOT_FOUND: 404,
    ErrorKind.CONFLICT: 409,
    ErrorKind.TOO_LARGE: 413,
    ErrorKind.UNSUPPORTED_MEDIA: 415,
    ErrorKind.INVALID: 422,
    ErrorKind.RATE_LIMITED: 429,
    ErrorKind.UPSTREAM_FAILED: 502,
    ErrorKind.UNAVAILABLE: 503,
}

HTTP_MESSAGES = {
    400: ("bad_request", "the request could not be understood"),
    404: ("not_found", "no such endpoint"),
    405: ("method_not_allowed", "this method is not allowed on this endpoint"),
    413: ("payload_too_large", "the request body is too large"),
    415: ("unsupported_media_type", "unsupported content type"),
}


@attrs.define
class ErrorDetailOut:
    """What went wrong: a stable `code` to branch on, a `message` for people, and the
    `request_id` that the server log holds too (also in the `X-Request-ID` header)."""

    code: str
    message: str
    request_id: str


@attrs.define
class ErrorOut:
    """The body of every error answer."""

    error: ErrorDetailOut


class MalformedJson(BadRequest):
    """The body claimed to be JSON and was not."""

    def __init__(self, reason: str = "the request body is not valid JSON") -> None:
        super().__init__()
        self.reason = reason


UPLOAD_PATH = "/api/v1/documents"
IMPORT_PATH = "/api/v1/conversations/import"


class BotgptRequest(Request):
    """Quart's request, with a JSON failure we can name without echoing parser internals,
    and larger body limits on the upload and import routes only (the app sets them)."""

    body_limits: ClassVar[dict[str, int]] = {}
    # Why a body was too large, by path ("" for every other path): the limit and its setting.
    too_large: ClassVar[dict[str, tuple[str, str]]] = {}

    def __init__(self, method: str, scheme: str, path: str, *args: Any, **kwargs: Any) -> None:
        limit = self.body_limits.get(path.rstrip("/")) if method == "POST" else None
        if limit is not None:
            kwargs["max_content_length"] = limit
        super().__init__(method, scheme, path, *args, **kwargs)

    def on_json_loading_failed(self, error: Exception | None) -> Any:
        raise MalformedJson()

    async def get_json(self, *args: Any, **kwargs: Any) -> Any:
        # A body nested thousands deep exhausts the parser's recursion: a client error, not ours.
        # Bytes that are not UTF-8 are not JSON text either.
        try:
            body = await super().get_json(*args, **kwargs)
        except RecursionError:
            raise MalformedJson("the request body nests too deeply to be read as JSON") from None
        except UnicodeDecodeError:
            raise MalformedJson("the request body is not UTF-8 text, so not JSON") from None
        _check_unicode(body)
        return body


def _check_unicode(body: Any) -> None:
    """JSON's \\u escapes can spell lone surrogates, which no text encoding can carry: refuse
    them here, as the client's error, before a model or a store fails on them."""
    pending = [body]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
        elif isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise InvalidRequest("the request holds text that is not valid Unicode (a lone surrogate)") from None


def request_id() -> str:
    return str(getattr(g, "request_id", "-"))


def error_response(
    status: int,
    code: str,
    message: str,
    headers: dict[str, str] | None = None,
    details: dict[str, Any] | None = None,
) -> Response:
    body = {"error": {"code": code, "message": message, "request_id": request_id(), **(details or {})}}
    response = Response(json.dumps(body), status=status, content_type="application/json")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def log_detail(error: BotgptError) -> str:
    """What an error says for the server log only (an engine's exit signal, for example)."""
    detail = getattr(error, "detail", "")
    return f" [{detail}]" if detail else ""


def status_for(error: BotgptError) -> int:
    """The HTTP status of a domain error."""
    return STATUS_OF_KIND[error.kind]


async def on_domain_error(error: BotgptError) -> Response:
    status = status_for(error)
    if status >= 500:
        log.error(
            "request %s failed: %s: %s%s",
            request_id(),
            type(error).__name__,
            error,
            log_detail(error),
            exc_info=error.__cause__ is not None,
        )
    headers = {}
    retry_after = getattr(error, "retry_after", None)
    if retry_after is not None:
        headers["Retry-After"] = str(max(1, math.ceil(retry_after)))
    if error.kind is ErrorKind.UNAUTHENTICATED:
        headers["WWW-Authenticate"] = 'Bearer realm="botgpt"'
    return error_response(status, error.code, str(error), headers, error.details())


async def on_validation_error(error: RequestSchemaValidationError) -> Response:
    detail = str(error.validation_error)
    if "got `null`" in detail:
        detail = "expected a JSON object body (Content-Type: application/json)"
    return error_response(422, "validation_error", detail)


async def on_http_error(error: HTTPException) -> Response:
    status = error.code or 500
    if isinstance(error, MalformedJson):
        return error_response(400, "malformed_json", error.reason)
    if status == 413:
        return error_response(413, *_too_large())
    code, message = HTTP_MESSAGES.get(status, ("http_error", "the request failed"))
    # A 405 names the methods the path does take (RFC 9110 requires Allow).
    allow = {name: value for name, value in error.get_headers() if name == "Allow"}
    return error_response(status, code, message, allow)


def _too_large() -> tuple[str, str]:
    notes = getattr(request, "too_large", {})
    return notes.get(request.path.rstrip("/")) or notes.get("") or HTTP_MESSAGES[413]


async def on_unexpected(error: Exception) -> Response:
    log.exception("request %s failed unexpectedly", request_id(), exc_info=error)
    return error_response(500, "internal_error", "an internal error occurred; it has been logged")


async def assign_request_id() -> None:
    supplied = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = supplied if _SAFE_REQUEST_ID.fullmatch(supplied) else uuid.uuid4().hex


async def echo_request_id(response: Response) -> Response:
    response.headers[REQUEST_ID_HEADER] = request_id()
    return response


def install_error_handling(app: Quart, upload_mb: int, import_mb: int, request_kb: int) -> None:
    """Request ids, and a JSON error body for every failure."""
    # Multipart framing adds a little to the file itself.
    limits = {UPLOAD_PATH: (upload_mb << 20) + (64 << 10), IMPORT_PATH: import_mb << 20}
    too_large = {
        UPLOAD_PATH: ("upload_too_large", f"the upload is larger than the {upload_mb} MB limit"),
        IMPORT_PATH: ("payload_too_large", f"the import is larger than the {import_mb} MB limit"),
        "": ("payload_too_large", f"the request body is larger than the {request_kb} KiB limit"),
    }
    attributes = {"body_limits": limits, "too_large": too_large}
    app.request_class = type("Request", (BotgptRequest,), attributes)  # type: ignore[assignment]
    app.before_request(assign_request_id)
    app.after_request(echo_request_id)
    app.register_error_handler(RequestSchemaValidationError, on_validation_error)
    app.register_error_handler(BotgptError, on_domain_error)
    app.register_error_handler(HTTPException, on_http_error)
    app.register_error_handler(Exception, on_unexpected)
