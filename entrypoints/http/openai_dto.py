"""Response bodies of the OpenAI-compatible API, as OpenAI documents them (for the OpenAPI
document; the handlers build the same shape)."""

from __future__ import annotations

import attrs

from botgpt.entrypoints.http.conversations_dto import CitationOut


@attrs.define
class ModelOut:
    id: str
    object: str
    created: int
    owned_by: str


@attrs.define
class ModelListOut:
    """The chat model that answers, then the embedder of `/v1/embeddings`, in OpenAI's list format."""

    object: str
    data: list[ModelOut]


@attrs.define
class AssistantMessageOut:
    role: str
    content: str


@attrs.define
class ChoiceOut:
    index: int
    message: AssistantMessageOut
    finish_reason: str


@attrs.define
class CompletionUsageOut:
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


@attrs.define
class BotgptExtensionOut:
    """botgpt's additions: whether (and where) the turn was stored, and the answer's citations."""

    conversation_id: str | None
    message_id: str | None
    stored: bool
    citations: list[CitationOut]


@attrs.define
class ChatCompletionOut:
    """A whole completion (`stream: false`); with `stream: true`, Server-Sent Events of
    `chat.completion.chunk` objects, then `data: [DONE]`."""

    id: str
    object: str
    created: int
    model: str | None
    choices: list[ChoiceOut]
    usage: CompletionUsageOut
    botgpt: BotgptExtensionOut
