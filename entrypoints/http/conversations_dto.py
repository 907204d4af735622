"""Request and response bodies of the conversation endpoints (the seed's field names).

attrs classes validated through msgspec; the domain objects stay free of API concerns.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

import attrs

from botgpt.domain.model import (
    Conversation,
    ConversationDetail,
    Message,
    Mode,
    Page,
    Role,
    Siblings,
    Turn,
)
from botgpt.domain.turns import Sampling
from botgpt.entrypoints.http.fields_dto import (
    Filters,
    Id,
    MaxTokens,
    MessageText,
    ParentId,
    Stops,
    StopText,
    Temperature,
    Title,
    TopP,
    UserId,
)


@attrs.define(kw_only=True)
class SamplingIn:
    """How this answer is sampled, as in OpenAI's chat completions; each field left out takes
    the server's setting. An answer cut at `max_tokens` has `finish_reason` `"length"`."""

    max_tokens: MaxTokens | None = None
    temperature: Temperature | None = None
    top_p: TopP | None = None
    seed: int | None = None
    stop: StopText | Stops | None = None

    def sampling(self) -> Sampling:
        """The choices made here, for the turn."""
        stop = (self.stop,) if isinstance(self.stop, str) else tuple(self.stop or ())
        return Sampling(self.max_tokens, self.temperature, self.top_p, self.seed, stop)


@attrs.define
class CreateConversationIn(SamplingIn):
    """`document_ids`, `collection_ids` and `filters` choose what a `rag_mode` conversation is
    grounded in (all of the user's ready documents when none is given); an `open_chat` one
    takes none of them."""

    # For the OpenAPI document (see ``openapi.apply_rules``): outside rag_mode, no sources.
    OPENAPI_RULES: ClassVar[dict[str, Any]] = {
        "anyOf": [
            {"properties": {"mode": {"const": Mode.RAG.value}}, "required": ["mode"]},
            {
                "properties": {
                    "document_ids": {"anyOf": [{"type": "null"}, {"type": "array", "maxItems": 0}]},
                    "collection_ids": {"anyOf": [{"type": "null"}, {"type": "array", "maxItems": 0}]},
                    "filters": {"type": "null"},
                }
            },
        ]
    }

    message: MessageText
    user_id: UserId | None = None
    mode: Mode = Mode.OPEN_CHAT
    document_ids: list[Id] | None = None
    collection_ids: list[Id] | None = None
    filters: Filters | None = None
    stream: bool = False


@attrs.define
class PostMessageIn(SamplingIn):
    """``parent_id`` starts a new branch after that assistant message (``"root"``: a new
    first message); without it the message continues the active branch."""

    message: MessageText
    user_id: UserId | None = None
    stream: bool = False
    parent_id: ParentId | None = None


@attrs.define
class RegenerateIn(SamplingIn):
    user_id: UserId | None = None
    stream: bool = False


@attrs.define
class SwitchBranchIn:
    """The message whose branch becomes active (it continues to its newest descendant)."""

    message_id: Id
    user_id: UserId | None = None


@attrs.define
class RenameIn:
    title: Title
    user_id: UserId | None = None


@attrs.define
class CitationOut:
    """A cited passage. `score` (0–1) is its retrieval relevance, over the best passage found
    for the question (1 = the best). `support` (0–1) is how well it supports the sentences
    citing it, and `supported` whether that reaches `BOTGPT_CITATION_MIN_SUPPORT`; null where
    unverified. `snippet` is cut at word boundaries (… where cut), and `highlight_start` /
    `highlight_end` are the character offsets in it of the sentence that supports the answer."""

    document_id: str
    filename: str
    chunk_id: str
    start: int
    end: int
    score: float
    snippet: str
    number: int = 0
    support: float | None = None
    supported: bool | None = None
    highlight_start: int | None = None
    highlight_end: int | None = None


@attrs.define
class MessageOut:
    id: str
    conversation_id: str
    role: str
    content: str
    tokens: int
    timestamp: datetime
    model: str | None
    prompt_tokens: int
    completion_tokens: int
    metadata: dict[str, Any]
    citations: list[CitationOut]
    parent_id: str | None
    # An answer's: "length" when it was cut at the token cap, else "stop"; None for a user's.
    finish_reason: str | None = None


@attrs.define
class ConversationOut:
    id: str
    user_id: str
    title: str
    mode: str
    document_ids: list[str]
    collection_ids: list[str]
    filters: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime
    message_count: int
    total_tokens: int
    prompt_tokens: int
    completion_tokens: int
    metadata: dict[str, Any]
    active_leaf_id: str | None
    summary: SummaryOut | None


@attrs.define
class SummaryOut:
    text: str
    through_id: str
    tokens: int


@attrs.define
class TurnOut:
    conversation_id: str
    title: str
    mode: str
    user_message: MessageOut
    assistant_message: MessageOut
    conversation: ConversationOut


@attrs.define
class ConversationListOut:
    conversations: list[ConversationOut]
    total: int
    limit: int
    offset: int
    has_more: bool
    next_cursor: str | None


@attrs.define
class ConversationDetailOut:
    conversation: ConversationOut
    messages: list[MessageOut]


@attrs.define
class SiblingsOut:
    """The alternatives at one point: every child of ``parent_id``, oldest first."""

    parent_id: str | None
    active_id: str | None
    messages: list[MessageOut]


@attrs.define
class DeletedOut:
    deleted: bool
    conversation_id: str
    message: str


def message_out(message: Message) -> MessageOut:
    metadata = {"model": message.model} if message.model else {}
    return MessageOut(
        id=message.id,
        conversation_id=message.conversation_id,
        role=message.role.value,
        content=message.content,
        tokens=message.tokens,
        timestamp=message.created_at,
        model=message.model,
        prompt_tokens=message.prompt_tokens,
        completion_tokens=message.completion_tokens,
        metadata=metadata,
        citations=[CitationOut(**attrs.asdict(citation)) for citation in message.citations],
        parent_id=message.parent_id,
        finish_reason=message.finish_reason.value if message.role is Role.ASSISTANT else None,
    )


def conversation_out(conversation: Conversation) -> ConversationOut:
    return ConversationOut(
        id=conversation.id,
        user_id=conversation.user_id,
        title=conversation.title,
        mode=conversation.mode.value,
        document_ids=list(conversation.document_ids),
        collection_ids=list(conversation.collection_ids),
        filters=conversation.filters,
        created_at=conversation.created_at,
        updated_at=conversation.updated_at,
        message_count=conversation.message_count,
        total_tokens=conversation.total_tokens,
        prompt_tokens=conversation.prompt_tokens,
        completion_tokens=conversation.completion_tokens,
        metadata={},
        active_leaf_id=conversation.active_leaf_id,
        summary=SummaryOut(**attrs.asdict(conversation.summary)) if conversation.summary else None,
    )


def turn_out(turn: Turn) -> TurnOut:
    return TurnOut(
        conversation_id=turn.conversation.id,
        title=turn.conversation.title,
        mode=turn.conversation.mode.value,
        user_message=message_out(turn.user_message),
        assistant_message=message_out(turn.assistant_message),
        conversation=conversation_out(turn.conversation),
    )


def page_out(page: Page[Conversation]) -> ConversationListOut:
    return ConversationListOut(
        conversations=[conversation_out(item) for item in page.items],
        total=page.total,
        limit=page.limit,
        offset=page.offset,
        has_more=page.has_more,
        next_cursor=page.next_cursor,
    )


def siblings_out(siblings: Siblings) -> SiblingsOut:
    return SiblingsOut(
        parent_id=siblings.parent_id,
        active_id=siblings.active_id,
        messages=[message_out(message) for message in siblings.messages],
    )


def detail_out(detail: ConversationDetail) -> ConversationDetailOut:
    return ConversationDetailOut(
        conversation=conversation_out(detail.conversation),
        messages=[message_out(message) for message in detail.messages],
    )
