"""An OpenAI-compatible API: ``GET /v1/models`` and ``POST /v1/chat/completions``
(``POST /v1/embeddings`` is in ``openai_embeddings.py``).

The official openai SDK (and the tools built on it) works unchanged against
``base_url=http://host/v1`` with a botgpt key as its API key. botgpt's own options travel in
a ``botgpt`` object (the SDK's ``extra_body``):

- ``conversation_id``: the last user message continues that stored conversation (its stored
  history is used; earlier messages in the request are ignored), and the turn is stored.
- ``document_ids``, ``collection_ids``, ``filters``: the answer is grounded in these documents,
  the collections' documents, narrowed by the attribute filter, with ``botgpt.citations``;
  ``all_documents: true`` grounds it in every ready document of the user.

Without ``conversation_id`` a request is stateless, as with OpenAI: nothing is stored.

Sampling options are honoured: ``max_tokens`` / ``max_completion_tokens`` (at least 1, capped
at the server's ``max_answer_tokens``; an answer cut there finishes with ``"length"``),
``stop`` (a string or up to 4, cut from the answer), ``temperature`` (0..2), ``top_p`` (0..1]
and ``seed``. A value out of range answers 422 naming the field.

Options botgpt cannot honour are refused with 400 ``unsupported_option`` naming them, rather
than silently ignored: ``n`` above 1, ``logprobs``, ``top_logprobs``, ``tools``,
``tool_choice`` other than "none", ``functions``, ``function_call``, ``response_format``
other than text, ``logit_bias``, non-zero ``presence_penalty`` / ``frequency_penalty``,
``audio``, ``modalities`` other than text, ``prediction`` and ``web_search_options``. Each
is accepted at its "off" value (``n: 1``, ``logprobs: false``, ...), which some clients
always send.

Fields that change nothing about the answer are accepted and ignored: ``user``,
``parallel_tool_calls`` (there are no tools), ``stream_options`` (the last chunk always
carries the usage), ``metadata``, ``store``, ``service_tier``, ``reasoning_effort``, and any
field OpenAI adds later, so that newer SDKs keep working.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Annotated, Any, ClassVar

import attrs
import msgspec
from dependency_injector.wiring import Provide, inject
from quart import Blueprint
from quart_schema import document_response, validate_request

from botgpt.domain.conversations import ConversationService
from botgpt.domain.errors import BotgptError, InvalidRequest, UnsupportedOption
from botgpt.domain.model import ChatMessage, Role, ScopeRequest, Turn
from botgpt.domain.turns import PreparedTurn, Sampling
from botgpt.domain.usage import UsageService
from botgpt.entrypoints.http.accounting import Recorder, usage_recorder
from botgpt.entrypoints.http.auth import spends_tokens
from botgpt.entrypoints.http.conversations_dto import CitationOut
from botgpt.entrypoints.http.errors import request_id
from botgpt.entrypoints.http.fields_dto import Filters, Id, described
from botgpt.entrypoints.http.openai_dto import ChatCompletionOut, ModelListOut
from botgpt.entrypoints.http.openapi import operation
from botgpt.entrypoints.http.routes import as_caller
from botgpt.entrypoints.http.sse import shutdown_error, sse_response
from botgpt.ports.ai import Embedder

blueprint = Blueprint("openai", __name__, url_prefix="/v1")


ROLES = {"system": Role.SYSTEM, "developer": Role.SYSTEM, "user": Role.USER, "assistant": Role.ASSISTANT}


@attrs.define
class OpenAIMessage:
    # A str, not an enum, so that an unknown role is refused by name (422 invalid_request).
    role: Annotated[str, described(enum=list(ROLES))]
    content: str | list[dict[str, Any]] | None = None


@attrs.define
class BotgptOptions:
    conversation_id: Id | None = None
    document_ids: list[Id] | None = None
    collection_ids: list[Id] | None = None
    filters: Filters | None = None
    all_documents: bool = False

    def sources(self) -> ScopeRequest | None:
        """What the answer is grounded in; None for an ungrounded answer."""
        named = ScopeRequest(tuple(self.document_ids or ()), tuple(self.collection_ids or ()), self.filters)
        return named if named.names_sources or self.filters is not None or self.all_documents else None


# The options botgpt reads but cannot honour, and the values at which they ask for nothing.
OFF_VALUES: dict[str, tuple[Any, ...]] = {
    "n": (None, 1),
    "logprobs": (None, False),
    "top_logprobs": (None, 0),
    "tools": (None, []),
    "tool_choice": (None, "none"),
    "functions": (None, []),
    "function_call": (None, "none"),
    "response_format": (None, {"type": "text"}),
    "logit_bias": (None, {}),
    "presence_penalty": (None, 0),
    "frequency_penalty": (None, 0),
    "audio": (None,),
    "modalities": (None, ["text"]),
    "prediction": (None,),
    "web_search_options": (None,),
}


StopText = Annotated[str, msgspec.Meta(min_length=1)]


@attrs.define
class ChatCompletionIn:
    # For the OpenAPI document (see ``openapi.apply_rules``): the refused options' off values.
    OPENAPI_RULES: ClassVar[dict[str, Any]] = {
        "properties": {
            name: {"enum": list(values), "description": "Refused (400 unsupported_option) unless one of these"}
            for name, values in OFF_VALUES.items()
        }
    }

    messages: Annotated[list[OpenAIMessage], described(minItems=1)]
    model: str = "botgpt"
    stream: bool = False
    user: str | None = None
    botgpt: BotgptOptions | None = None
    max_tokens: Annotated[int, msgspec.Meta(ge=1)] | None = None
    max_completion_tokens: Annotated[int, msgspec.Meta(ge=1)] | None = None
    stop: StopText | Annotated[list[StopText], msgspec.Meta(max_length=4)] | None = None
    temperature: Annotated[float, msgspec.Meta(ge=0.0, le=2.0)] | None = None
    top_p: Annotated[float, msgspec.Meta(gt=0.0, le=1.0)] | None = None
    seed: int | None = None
    # Refused unless at their "off" value (see the module docstring); any JSON is read here
    # so that the refusal, not a type error, names them. The document lists the values taken.
    n: Any = None
    logprobs: Any = None
    top_logprobs: Any = None
    tools: Any = None
    tool_choice: Any = None
    functions: Any = None
    function_call: Any = None
    response_format: Any = None
    logit_bias: Any = None
    presence_penalty: Any = None
    frequency_penalty: Any = None
    audio: Any = None
    modalities: Any = None
    prediction: Any = None
    web_search_options: Any = None

    def refused(self) -> list[str]:
        """The options asked for that botgpt cannot honour."""
        return [name for name, values in OFF_VALUES.items() if not _is_off(getattr(self, name), values)]

    def sampling(self) -> Sampling:
        """The sampling the request asks for; the server's policy fills in the rest."""
        if None not in (self.max_tokens, self.max_completion_tokens) and self.max_tokens != self.max_completion_tokens:
            raise InvalidRequest("max_tokens and max_completion_tokens disagree; send one of them")
        stop = (self.stop,) if isinstance(self.stop, str) else tuple(self.stop or ())
        return Sampling(
            max_tokens=self.max_completion_tokens or self.max_tokens,
            temperature=self.temperature,
            top_p=self.top_p,
            seed=self.seed,
            stop=stop,
        )


def _is_off(value: Any, off: tuple[Any, ...]) -> bool:
    # ``True == 1`` in Python: a boolean only matches a boolean, so ``n: true`` is refused.
    return any(value == candidate and isinstance(value, bool) == isinstance(candidate, bool) for candidate in off)


def _text(content: str | list[dict[str, Any]] | None) -> str:
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if part.get("type") == "text")
    return content or ""


def _chat_messages(messages: list[OpenAIMessage]) -> list[ChatMessage]:
    unknown = sorted({m.role for m in messages} - set(ROLES))
    if unknown:
        raise InvalidRequest(f"unsupported message roles: {', '.join(unknown)}")
    return [ChatMessage(ROLES[m.role], _text(m.content)) for m in messages]


@blueprint.get("/models")
@operation("List models")
@document_response(ModelListOut)
@inject
async def list_models(
    service: ConversationService = Provide["conversations"], embedder: Embedder = Provide["embedder"]
) -> dict[str, Any]:
    """The chat model that answers, then the embedder of `/v1/embeddings`, in OpenAI's list format."""
    names = dict.fromkeys((service.chat.name, embedder.name))  # in order, once each
    return {
        "object": "list",
        "data": [{"id": name, "object": "model", "created": 0, "owned_by": "botgpt"} for name in names],
    }


@blueprint.post("/chat/completions")
@operation("Create a chat completion", 404, 409)
@validate_request(ChatCompletionIn)
@document_response(ChatCompletionOut)
@spends_tokens
@as_caller(acts=True, claim="user")
@inject
async def chat_completions(
    data: ChatCompletionIn,
    user_id: str,
    service: ConversationService = Provide["conversations"],
    usage: UsageService = Provide["usage"],
) -> Any:
    """OpenAI chat completions, streamed (SSE chunks, then ``[DONE]``) or whole."""
    if refused := data.refused():
        raise UnsupportedOption(f"botgpt cannot honour these options: {', '.join(refused)}", param=refused[0])
    sampling = data.sampling()
    prepared = attrs.evolve(await _prepare(service, user_id, data), sampling=sampling)
    record = usage_recorder(usage)
    if data.stream:
        return sse_response(_chunks(service, prepared, record, request_id()), _shutdown_farewell(request_id()))
    turn = await service.complete_turn(prepared)
    await record(turn)
    return _completion_body(turn, prepared)


async def _prepare(service: ConversationService, user_id: str, data: ChatCompletionIn) -> PreparedTurn:
    messages = _chat_messages(data.messages)
    options = data.botgpt or BotgptOptions()
    if options.conversation_id:
        if not messages or messages[-1].role is not Role.USER:
            raise InvalidRequest("the last message must be the user's")
        return await service.prepare_post(user_id, options.conversation_id, messages[-1].content)
    return await service.prepare_stateless(user_id, messages, options.sources())


def _extension(turn: Turn, prepared: PreparedTurn) -> dict[str, Any]:
    return {
        "conversation_id": turn.conversation.id if prepared.stored else None,
        "message_id": turn.assistant_message.id if prepared.stored else None,
        "stored": prepared.stored,
        "citations": [msgspec.to_builtins(CitationOut(**attrs.asdict(c))) for c in turn.assistant_message.citations],
    }


def _usage(turn: Turn) -> dict[str, int]:
    message = turn.assistant_message
    total = message.prompt_tokens + message.completion_tokens
    return {
        "prompt_tokens": message.prompt_tokens,
        "completion_tokens": message.completion_tokens,
        "total_tokens": total,
    }


def _completion_body(turn: Turn, prepared: PreparedTurn) -> dict[str, Any]:
    message = turn.assistant_message
    return {
        "id": f"chatcmpl-{message.id}",
        "object": "chat.completion",
        "created": int(message.created_at.timestamp()),
        "model": message.model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": message.content},
                "finish_reason": message.finish_reason.value,
            }
        ],
        "usage": _usage(turn),
        "botgpt": _extension(turn, prepared),
    }


def _shutdown_farewell(current_request: str) -> bytes:
    # OpenAI's stream shape for an error, then the end marker clients wait for.
    error = shutdown_error(current_request)
    return _sse({"error": {"message": error["message"], "type": error["code"], **error}}) + b"data: [DONE]\n\n"


def _sse(data: Any) -> bytes:
    return b"data: " + msgspec.json.encode(data) + b"\n\n"


async def _chunks(
    service: ConversationService, prepared: PreparedTurn, record: Recorder, current_request: str
) -> AsyncIterator[bytes]:
    """OpenAI-style chunks: a role chunk, content deltas, a final chunk with usage, [DONE]."""
    chunk_id, created = f"chatcmpl-{prepared.user_message.id}", int(time.time())
    model = service.chat.name

    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> bytes:
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        body = {"id": chunk_id, "object": "chat.completion.chunk", "created": created, "model": model}
        return _sse({**body, "choices": [choice], **extra})

    yield chunk({"role": "assistant", "content": ""})
    try:
        async for item in service.stream_turn(prepared):
            if isinstance(item, str):
                yield chunk({"content": item})
            else:
                await record(item)
                model = item.assistant_message.model or model
                finish = item.assistant_message.finish_reason.value
                yield chunk({}, finish, usage=_usage(item), botgpt=_extension(item, prepared))
    except BotgptError as error:
        yield _sse(
            {"error": {"message": str(error), "type": error.code, "code": error.code, "request_id": current_request}}
        )
        return
    yield b"data: [DONE]\n\n"
