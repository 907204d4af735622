"""Domain errors: one base class, and a one-line subclass per failure.

Each class carries a stable ``code`` for clients, a ``kind`` and a message ``template``. The kind
says what went wrong in terms any transport can map (the HTTP layer turns it into a status in one
table, the CLI into a line of text), so nothing here knows HTTP.
"""

from __future__ import annotations

import enum
from typing import Any, ClassVar


class ErrorKind(enum.Enum):
    """What kind of failure an error is, independent of how it reaches the caller."""

    INVALID = "invalid"  # well-formed request, unacceptable content
    MALFORMED = "malformed"  # the request itself cannot be parsed (a bad id)
    TOO_LARGE = "too_large"
    UNSUPPORTED_MEDIA = "unsupported_media"
    UNAUTHENTICATED = "unauthenticated"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"  # the state of the thing does not allow it now
    RATE_LIMITED = "rate_limited"
    UNAVAILABLE = "unavailable"  # a dependency cannot answer now; retrying may work
    UPSTREAM_FAILED = "upstream_failed"  # a dependency answered with something unusable


class BotgptError(Exception):
    """Base of every error botgpt raises on purpose.

    A subclass names its ``code``, ``kind`` and ``template`` in its class statement. Keyword
    arguments fill the template and become attributes, so ``RateLimited(retry_after=3)`` carries
    ``retry_after``; ``public`` names the attributes a client may see beside the message.
    """

    code: ClassVar[str] = "botgpt_error"
    kind: ClassVar[ErrorKind] = ErrorKind.INVALID
    template: ClassVar[str] = "the request failed"
    public: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(
        cls,
        code: str | None = None,
        kind: ErrorKind | None = None,
        template: str | None = None,
        public: tuple[str, ...] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init_subclass__(**kwargs)
        for name, value in (("code", code), ("kind", kind), ("template", template), ("public", public)):
            if value is not None:
                setattr(cls, name, value)

    def __init__(self, message: str | None = None, **fields: Any) -> None:
        for name, value in fields.items():
            setattr(self, name, value)
        super().__init__(message if message is not None else self.template.format(**fields))

    def details(self) -> dict[str, Any]:
        """The attributes a client may see beside the code and the message."""
        return {name: getattr(self, name) for name in self.public}


class InvalidRequest(BotgptError, code="invalid_request", template="the request is not valid"): ...


class InvalidId(InvalidRequest, code="invalid_id", kind=ErrorKind.MALFORMED, template="{what} is malformed"): ...


class UnsupportedOption(InvalidRequest, code="unsupported_option", kind=ErrorKind.MALFORMED, public=("param",)):
    """A request option botgpt cannot honour; ``param`` names the first one."""


class InputTooLong(InvalidRequest, code="input_too_long", public=("param",)):
    """A text to embed is longer than the embedder reads; ``param`` names the input."""


class MessageTooLarge(InvalidRequest, code="message_too_large", kind=ErrorKind.TOO_LARGE): ...


class UploadTooLarge(InvalidRequest, code="upload_too_large", kind=ErrorKind.TOO_LARGE): ...


class ImportTooLarge(InvalidRequest, code="import_too_large", kind=ErrorKind.TOO_LARGE): ...


class InvalidTree(InvalidRequest, code="invalid_tree"):
    """Imported messages do not form a tree: a repeated id, or a parent that is missing."""


class UnsupportedDocument(InvalidRequest, code="unsupported_document", kind=ErrorKind.UNSUPPORTED_MEDIA):
    """The upload's type is not one botgpt reads, or its content does not match its name."""


class UnreadableDocument(InvalidRequest, code="unreadable_document"):
    """The upload claims a supported type but cannot be read (empty, undecodable, a bomb)."""


class InvalidFilter(InvalidRequest, code="invalid_filter", template="the filter is not valid"): ...


class EmbedderMismatch(InvalidRequest, code="embedder_mismatch"):
    """Vectors from different embedders cannot be compared."""


class UnsupportedMode(InvalidRequest, code="unsupported_mode"):
    """The requested conversation mode cannot be served by this deployment."""


class NotFound(BotgptError, code="not_found", kind=ErrorKind.NOT_FOUND, template="not found"):
    """The thing does not exist, or belongs to someone else (the two are not told apart)."""


class ConversationNotFound(NotFound, code="conversation_not_found", template="conversation not found"): ...


class DocumentNotFound(NotFound, code="document_not_found", template="document not found"): ...


class CollectionNotFound(NotFound, code="collection_not_found", template="collection not found"): ...


class MessageNotFound(NotFound, code="message_not_found", template="message not found in this conversation"): ...


class Conflict(BotgptError, code="conflict", kind=ErrorKind.CONFLICT):
    """The request is well formed, but the state of what it names does not allow it now."""


class NothingToRegenerate(Conflict, code="nothing_to_regenerate"):
    """The active branch has no user message to answer again."""


class TurnConflict(Conflict, code="turn_conflict"):
    """Another turn in the conversation was stored (or its branch switched) while this one was
    being answered; this one was not stored, so that neither silently forks the other."""


class DocumentNotReady(Conflict, code="document_not_ready", public=("document_id", "status")):
    """A document is still being ingested, or failed; ``status`` says which."""

    document_id: str
    status: str


class DocumentsUnavailable(Conflict, code="documents_unavailable"):
    """Every document a RAG conversation relied on has been deleted."""


class Unauthorized(BotgptError, code="unauthorized", kind=ErrorKind.UNAUTHENTICATED):
    """No API key, or one that is unknown or revoked."""


class Forbidden(BotgptError, code="forbidden", kind=ErrorKind.FORBIDDEN):
    """The request names a user other than the one its API key belongs to."""


class RateLimited(BotgptError, code="rate_limited", kind=ErrorKind.RATE_LIMITED):
    """A key's request or token limit is spent; ``retry_after`` says when it refills."""

    retry_after: float | None = None


class EmbedderError(BotgptError, code="embedder_error", kind=ErrorKind.UNAVAILABLE):
    """The embedder failed. ``transient`` says whether a retry may succeed."""

    transient: bool = True


class ChatModelError(BotgptError, code="model_error", kind=ErrorKind.UPSTREAM_FAILED):
    """A chat model call failed; nothing of the turn was stored."""


class ModelUnavailable(ChatModelError, code="model_unavailable", kind=ErrorKind.UNAVAILABLE):
    """The model cannot answer now (not loaded, overloaded, unreachable). Retrying may work.

    ``detail`` is for the server log only, never for the client."""

    retry_after: float | None = None
    detail: str = ""


class ModelFailed(ChatModelError, code="model_failed"):
    """The model rejected the request or returned something unusable."""
