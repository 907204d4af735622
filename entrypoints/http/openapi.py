"""The OpenAPI document: complete, grouped, and honest about errors and security.

quart-schema builds the operations from the routes. This provider adds what it leaves out:

- the component schemas of nested models (``ConversationOut`` inside a listing, the ``Mode``
  enum, …), which quart-schema references but never defines (ReDoc refuses such a document);
- a tag per resource, and a short summary per operation (``operation``), with the whole
  docstring as its description (quart-schema's summary is the docstring's first line, often
  half a sentence);
- the error answers each operation can give, with the one error body;
- the bearer-key security scheme (public operations say they need none);
- what the route decorators cannot say: the multipart upload, the id shape of path
  parameters, Server-Sent Events answers, the Markdown export, limits that are settings.
"""

from __future__ import annotations

import enum
import inspect
import json
import re
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import attrs
import msgspec
from quart_schema import OpenAPIProvider
from quart_schema.validation import QUART_SCHEMA_QUERYSTRING_ATTRIBUTE, QUART_SCHEMA_REQUEST_ATTRIBUTE
from werkzeug.routing import Rule

from botgpt.entrypoints.http.auth import PUBLIC_ENDPOINTS, UNCOUNTED_METHODS
from botgpt.entrypoints.http.errors import ErrorOut

COMPONENTS = "#/components/schemas/"
# The HTTP layer's modules, and the export file format it shares with the CLI.
DTO_MODULE_PREFIXES = ("botgpt.entrypoints.http.", "botgpt.entrypoints.transfer_format")
ID_PATTERN = "^[0-9a-f]{32}$"
SECURITY_SCHEME = "bearerKey"
F = TypeVar("F", bound=Callable[..., Any])

# Blueprint -> the tag its operations are listed under.
TAG_OF_BLUEPRINT = {
    "conversations": "conversations",
    "transfer": "conversations",
    "branches": "branches",
    "documents": "documents",
    "collections": "collections",
    "search": "search",
    "usage": "usage",
    "openai": "openai",
    "openai_embeddings": "openai",
    "health": "health",
}
TAGS = [
    {"name": "conversations", "description": "Chats with the model, stored with every message; export and import."},
    {"name": "branches", "description": "Edits and regenerated answers: the alternatives at a message, and switching."},
    {"name": "documents", "description": "Upload files to ground answers in; ingestion runs in the background."},
    {"name": "collections", "description": "Named sets of a user's documents, to search or chat over together."},
    {"name": "search", "description": "Rank passages of the user's documents for a query."},
    {"name": "usage", "description": "Tokens spent, in total and per conversation."},
    {"name": "openai", "description": "OpenAI-compatible API: point the openai SDK at `/v1`."},
    {"name": "health", "description": "Liveness and readiness, for probes; no key needed."},
]

ERROR_DESCRIPTIONS = {
    400: "Malformed: the body is not JSON, or an id is not 32 lowercase hex characters",
    401: "A valid API key is required (once any key exists): `Authorization: Bearer <key>`",
    403: "`user_id` (body, query or `X-User-Id`) names someone other than the key's user",
    404: "No such resource for this caller (another user's is not found either)",
    409: "Conflicts with the resource's state",
    413: "Too large: the body, the file or the message is over its limit",
    415: "The file's type is not supported",
    422: "Well-formed, but a value is invalid",
    429: "Over the key's requests-per-minute or tokens-per-day limit; see `Retry-After`",
    502: "The model provider failed; nothing was stored",
    503: "The model is loading or unavailable; try again",
}
RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer", "minimum": 1}}}


@attrs.frozen
class OperationDoc:
    """What a route adds to its operation: a short summary, and errors its traits do not imply."""

    summary: str
    errors: tuple[int, ...] = ()
    request_body: dict[str, Any] | None = None
    also_as: dict[str, Any] = attrs.field(factory=dict)


def operation(
    summary: str, *errors: int, request_body: dict[str, Any] | None = None, also_as: dict[str, Any] | None = None
) -> Callable[[F], F]:
    """Document a route: a summary of a few words (the docstring becomes its description),
    the error statuses particular to it, a request body no model describes (multipart), and
    other media types its 200 answer can take (``also_as``: media type -> media type object)."""

    def decorate(view: F) -> F:
        view.botgpt_operation = OperationDoc(summary, errors, request_body, also_as or {})  # type: ignore[attr-defined]
        return view

    return decorate


def _dto_classes() -> dict[str, type]:
    """Every attrs class and enum defined in (or imported into) the HTTP layer's modules."""
    found: dict[str, type] = {}
    for name, module in list(sys.modules.items()):
        if not name.startswith(DTO_MODULE_PREFIXES):
            continue
        for value in vars(module).values():
            if isinstance(value, type) and (attrs.has(value) or issubclass(value, enum.Enum)):
                found.setdefault(value.__name__, value)
    return found


def dangling_references(document: dict[str, Any]) -> set[str]:
    """Schema names that ``$ref``s point at but ``components.schemas`` does not define."""
    named = set(re.findall(re.escape(COMPONENTS) + r'([^"]+)"', json.dumps(document)))
    return named - set(document.get("components", {}).get("schemas", {}))


def implied_errors(method: str, path: str, view: Callable[..., Any], public: bool) -> set[int]:
    """The error statuses a route's traits imply: keys, ids in the path, a body, a model call."""
    statuses: set[int] = set()
    if not public:
        statuses |= {401, 403}
        if method not in UNCOUNTED_METHODS or getattr(view, "spends_tokens", False):
            statuses.add(429)
    if "{" in path:
        statuses |= {400, 404}
    documented: OperationDoc | None = getattr(view, "botgpt_operation", None)
    if getattr(view, QUART_SCHEMA_REQUEST_ATTRIBUTE, None) or (documented and documented.request_body):
        statuses |= {400, 413, 422}
    if getattr(view, QUART_SCHEMA_QUERYSTRING_ATTRIBUTE, None):
        statuses.add(422)
    if getattr(view, "spends_tokens", False):
        statuses |= {502, 503}
    return statuses


def error_response(status: int) -> dict[str, Any]:
    """The response object of one error status."""
    response: dict[str, Any] = {
        "description": ERROR_DESCRIPTIONS[status],
        "content": {"application/json": {"schema": {"$ref": f"{COMPONENTS}ErrorOut"}}},
    }
    if status in (429, 503):
        response["headers"] = RETRY_AFTER
    if status == 401:
        response["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
    return response


def _description(view: Callable[..., Any]) -> str:
    """The whole docstring, its lines joined back into paragraphs (ReDoc shows them as Markdown)."""
    doc = inspect.getdoc(view) or ""
    return "\n\n".join(" ".join(paragraph.split("\n")) for paragraph in doc.split("\n\n"))


def _constrain_path_ids(operation_object: dict[str, Any]) -> None:
    # Every id botgpt issues has this shape; another is refused (400 invalid_id) before any lookup.
    for parameter in operation_object.get("parameters", []):
        if parameter.get("in") == "path" and parameter["name"].endswith("_id"):
            parameter["schema"] = {"type": "string", "pattern": ID_PATTERN}


def _no_null_in_queries(operation_object: dict[str, Any]) -> None:
    # A query string cannot say null: a parameter left out is the None of an optional field.
    for parameter in operation_object.get("parameters", []):
        schema = parameter.get("schema", {})
        branches = [branch for branch in schema.get("anyOf", ()) if branch != {"type": "null"}]
        if parameter.get("in") == "query" and len(branches) == 1:
            parameter["schema"] = branches[0]


def _streams(view: Callable[..., Any]) -> bool:
    """Whether the route's body can ask for a stream (``/v1/embeddings`` spends tokens, but never streams)."""
    declared = getattr(view, QUART_SCHEMA_REQUEST_ATTRIBUTE, None)
    model = declared[0] if declared else None
    return model is not None and attrs.has(model) and "stream" in attrs.fields_dict(model)


def _stream_alternative(operation_object: dict[str, Any]) -> None:
    # With "stream": true the answer is a 200 Server-Sent Events stream instead of JSON (the
    # stream starts before the turn is stored, so a creating route cannot say 201 then).
    # Before OpenAPI 3.2 (no itemSchema) the schema of text/event-stream describes each event.
    event = {
        "type": "object",
        "description": "One event: `delta`, then `done` or `error` (/v1: unnamed chunks, then `[DONE]`)",
        "properties": {"event": {"type": "string"}, "data": {"type": "string"}, "id": {"type": "string"}},
        "required": ["data"],
    }
    events = {"schema": event}
    responses = operation_object["responses"]
    streamed = responses.setdefault("200", {"description": 'With `"stream": true`: Server-Sent Events'})
    streamed.setdefault("content", {})["text/event-stream"] = events


def _merge(target: dict[str, Any], extra: dict[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = value


def apply_rules(operation_object: dict[str, Any], view: Callable[..., Any]) -> None:
    """Add to a JSON request body's schema the ``OPENAPI_RULES`` its model class states: rules
    across fields (an ``anyOf``), or the values a field read leniently actually takes."""
    declared = getattr(view, QUART_SCHEMA_REQUEST_ATTRIBUTE, None)
    rules = getattr(declared[0], "OPENAPI_RULES", None) if declared else None
    body = operation_object.get("requestBody", {}).get("content", {}).get("application/json")
    if rules and body is not None:
        _merge(body["schema"], rules)


class CompleteOpenAPIProvider(OpenAPIProvider):
    """quart-schema's provider, completed (see the module docstring)."""

    def build_paths(self, rule: Rule) -> tuple[dict[str, Any], dict[str, Any]]:
        paths, components = super().build_paths(rule)
        view = self._app.view_functions[rule.endpoint]
        public = rule.endpoint in PUBLIC_ENDPOINTS
        documented: OperationDoc | None = getattr(view, "botgpt_operation", None)
        blueprint = rule.endpoint.rpartition(".")[0]
        for path, methods in paths.items():
            for method, operation_object in methods.items():
                # quart-schema shares one dict between the methods of a rule: copy what changes.
                responses = {str(status): dict(response) for status, response in operation_object["responses"].items()}
                operation_object = methods[method] = {**operation_object, "responses": responses}
                if blueprint in TAG_OF_BLUEPRINT:
                    operation_object["tags"] = [TAG_OF_BLUEPRINT[blueprint]]
                if documented is not None:
                    operation_object["summary"] = documented.summary
                    operation_object["description"] = _description(view)
                    if documented.request_body is not None:
                        operation_object["requestBody"] = documented.request_body
                    if documented.also_as:
                        ok = operation_object["responses"].setdefault("200", {"description": "OK"})
                        ok["content"] = {**ok.get("content", {}), **documented.also_as}
                if public:
                    operation_object["security"] = []
                statuses = implied_errors(method.upper(), path, view, public) | set(
                    documented.errors if documented else ()
                )
                for status in sorted(statuses):
                    operation_object["responses"].setdefault(str(status), error_response(status))
                _constrain_path_ids(operation_object)
                apply_rules(operation_object, view)
                _no_null_in_queries(operation_object)
                if "requestBody" in operation_object:
                    # Every body route reads a body, even one whose fields are all optional.
                    operation_object["requestBody"] = {**operation_object["requestBody"], "required": True}
                if getattr(view, "spends_tokens", False) and _streams(view):
                    _stream_alternative(operation_object)
        return paths, components

    def schema(self) -> dict[str, Any]:
        document = super().schema()
        components = document.setdefault("components", {})
        components["securitySchemes"] = {
            SECURITY_SCHEME: {
                "type": "http",
                "scheme": "bearer",
                "description": "A key from `botgpt keys create --user NAME`. Needed once any key exists.",
            }
        }
        # Open mode (no key exists yet) takes requests without one: the key is optional until then.
        document["security"] = [{SECURITY_SCHEME: []}, {}]
        document["tags"] = TAGS
        self._add_missing_components(document, [ErrorOut])
        self._apply_settings(document)
        return document

    def _add_missing_components(self, document: dict[str, Any], always: list[type]) -> None:
        missing = dangling_references(document) | {cls.__name__ for cls in always}
        classes = _dto_classes() | {cls.__name__: cls for cls in always}
        schemas = document["components"].setdefault("schemas", {})
        wanted = [classes[name] for name in sorted(missing) if name in classes and name not in schemas]
        if wanted:
            _, found = msgspec.json.schema_components(wanted, ref_template=COMPONENTS + "{name}")
            for name, schema in found.items():
                schemas.setdefault(name, schema)

    def _apply_settings(self, document: dict[str, Any]) -> None:
        # The message limit is a setting (longer: 413 message_too_large), so the DTO cannot hold it.
        container = self._app.extensions.get("botgpt.container")
        if container is None:
            return
        limit = container.settings().max_message_chars
        schemas = document["components"]["schemas"]
        for name in ("CreateConversationIn", "PostMessageIn"):
            message = schemas.get(name, {}).get("properties", {}).get("message")
            if message is not None:
                message["maxLength"] = limit
