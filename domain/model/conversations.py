"""Conversations: messages in a tree, summaries, and the views the use cases return."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import datetime
from typing import Any, Generic, TypeVar

import attrs

T = TypeVar("T")


class Mode(enum.StrEnum):
    """How a conversation answers: from the model alone, or grounded in documents."""

    OPEN_CHAT = "open_chat"
    RAG = "rag_mode"


class Role(enum.StrEnum):
    """Who wrote a message."""

    SYSTEM = "system"
    USER = "user"
    ASSISTANT = "assistant"


class FinishReason(enum.StrEnum):
    """Why an answer ended: the model finished (or hit a stop sequence), or the token cap."""

    STOP = "stop"
    LENGTH = "length"


def _non_negative(_: object, attribute: attrs.Attribute[int], value: int) -> None:
    if value < 0:
        raise ValueError(f"{attribute.name} must be >= 0, got {value}")


@attrs.frozen
class Summary:
    """What the turns that fell out of the context window said, folded into a few sentences.

    It covers the branch from the root through ``through_id``; on a branch that does not
    pass through that message it does not apply. ``tokens`` is its cost in a prompt.
    """

    text: str
    through_id: str
    tokens: int = attrs.field(validator=_non_negative)


@attrs.frozen
class Conversation:
    """A conversation owned by one user. Renames and new turns produce new instances.

    Its messages form a tree (each names its ``parent_id``); ``active_leaf_id`` is the end
    of the branch that is shown and continued, ``None`` while there are no messages.
    """

    id: str
    user_id: str
    title: str
    mode: Mode
    created_at: datetime
    updated_at: datetime
    document_ids: tuple[str, ...] = ()
    message_count: int = attrs.field(default=0, validator=_non_negative)
    total_tokens: int = attrs.field(default=0, validator=_non_negative)
    prompt_tokens: int = attrs.field(default=0, validator=_non_negative)
    completion_tokens: int = attrs.field(default=0, validator=_non_negative)
    active_leaf_id: str | None = None
    summary: Summary | None = None
    collection_ids: tuple[str, ...] = ()
    # An attribute filter (the OpenAI shape, as plain JSON) narrowing what RAG turns search.
    filters: dict[str, Any] | None = attrs.field(default=None, hash=False)


@attrs.frozen
class Message:
    """One message of a conversation.

    ``tokens`` counts the content with the configured token counter; it is what the
    context packer budgets with. ``prompt_tokens`` and ``completion_tokens`` are the usage
    the model reported for an assistant message (zero for user messages). ``parent_id`` is
    the message it answers or follows, ``None`` for a first message. ``finish_reason`` says
    whether an answer was cut at the token cap (``LENGTH``).
    """

    id: str
    conversation_id: str
    role: Role
    content: str
    created_at: datetime
    tokens: int = attrs.field(validator=_non_negative)
    model: str | None = None
    prompt_tokens: int = attrs.field(default=0, validator=_non_negative)
    completion_tokens: int = attrs.field(default=0, validator=_non_negative)
    citations: tuple[Citation, ...] = ()
    parent_id: str | None = None
    finish_reason: FinishReason = FinishReason.STOP


@attrs.frozen
class Citation:
    """A passage an answer rests on: which chunk, where in the document, how relevant, and
    the ``[number]`` it had in the prompt (0 where unknown: answers stored before it was kept).

    ``score`` (0..1) is its retrieval relevance over the best passage found for the question.
    ``support`` (0..1) says how well the passage supports the sentences that cite it, and
    ``supported`` whether that reaches the policy's threshold; both None where unverified.
    ``highlight_start`` and ``highlight_end`` mark the supporting sentence in ``snippet``."""

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


@attrs.frozen
class ChatMessage:
    """A message as a chat model sees it: role and text, nothing stored."""

    role: Role
    content: str


def _stops(_: object, attribute: attrs.Attribute[tuple[str, ...]], value: tuple[str, ...]) -> None:
    if len(value) > MAX_STOP_SEQUENCES or not all(isinstance(stop, str) and stop for stop in value):
        raise ValueError(f"{attribute.name} takes at most {MAX_STOP_SEQUENCES} non-empty strings")


MAX_STOP_SEQUENCES = 4


def _as_stops(stops: Iterable[str]) -> tuple[str, ...]:
    return tuple(stops)


@attrs.frozen
class GenerationOptions:
    """How to sample one answer.

    ``max_tokens`` caps the answer (an answer cut there finishes with ``LENGTH``). ``top_p``
    and ``seed`` left ``None`` take the model's own defaults. The answer ends before the first
    of the ``stop`` sequences, which is not part of it.
    """

    max_tokens: int = attrs.field(validator=attrs.validators.ge(1))
    temperature: float = attrs.field(default=0.0, validator=attrs.validators.ge(0.0))
    top_p: float | None = attrs.field(
        default=None, validator=attrs.validators.optional([attrs.validators.gt(0.0), attrs.validators.le(1.0)])
    )
    seed: int | None = None
    stop: tuple[str, ...] = attrs.field(default=(), converter=_as_stops, validator=_stops)


@attrs.frozen
class Completion:
    """What a chat model returned for one prompt, and why it ended.

    The last three say how the answer came, for timings: ``provider`` is the configured
    provider that answered (the chain of providers sets it); ``queued_seconds`` how long the
    request waited for the model (a local engine's queue), and ``first_token_seconds`` how
    long after the call the first token came, where the model can tell.
    """

    text: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: FinishReason = FinishReason.STOP
    provider: str = ""
    queued_seconds: float | None = None
    first_token_seconds: float | None = None


@attrs.frozen
class Turn:
    """One exchange: the user's message and the assistant's answer, stored together."""

    conversation: Conversation
    user_message: Message
    assistant_message: Message


@attrs.frozen
class ConversationDetail:
    """A conversation with the messages of its active branch, oldest first."""

    conversation: Conversation
    messages: tuple[Message, ...]


@attrs.frozen
class Siblings:
    """The alternatives at one point of a conversation: every child of one parent, oldest
    first, and which of them lies on the active branch (``None`` if none does)."""

    parent_id: str | None
    messages: tuple[Message, ...]
    active_id: str | None


@attrs.frozen
class ConversationTree:
    """A whole conversation: every message of every branch, parents before children."""

    conversation: Conversation
    messages: tuple[Message, ...]


@attrs.frozen
class Page(Generic[T]):
    """One page of a listing, addressable by offset or by an opaque cursor."""

    items: tuple[T, ...]
    total: int
    limit: int
    offset: int
    next_cursor: str | None

    @property
    def has_more(self) -> bool:
        return self.next_cursor is not None


@attrs.frozen
class ListPosition:
    """Where a listing resumes: after (updated_at, id) in newest-first order."""

    updated_at: datetime
    id: str
