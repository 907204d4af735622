"""Domain errors. The HTTP layer maps each class to a status; nothing here knows HTTP."""

from __future__ import annotations


class BotgptError(Exception):
    """Base of every error botgpt raises on purpose. ``code`` is stable for clients."""

    code = "botgpt_error"


class InvalidRequest(BotgptError):
    """The caller asked for something malformed or out of range."""

    code = "invalid_request"


class InvalidId(InvalidRequest):
    """An identifier is not shaped like the ones botgpt issues."""

    code = "invalid_id"


class MessageTooLarge(InvalidRequest):
    """A message exceeds the configured size, or cannot fit the model's context."""

    code = "message_too_large"


class NotFound(BotgptError):
    """The thing does not exist, or belongs to someone else (the two are not told apart)."""

    code = "not_found"


class ConversationNotFound(NotFound):
    code = "conversation_not_found"


class DocumentNotFound(NotFound):
    code = "document_not_found"


class MessageNotFound(NotFound):
    """No such message in this conversation (it may belong to another one, or another user)."""

    code = "message_not_found"


class Conflict(BotgptError):
    """The request is well formed, but the conversation's state does not allow it."""

    code = "conflict"


class NothingToRegenerate(Conflict):
    """The active branch has no user message to answer again."""

    code = "nothing_to_regenerate"


class InvalidTree(InvalidRequest):
    """Imported messages do not form a tree: a repeated id, or a parent that is missing."""

    code = "invalid_tree"


class ImportTooLarge(InvalidRequest):
    """An import exceeds the configured size."""

    code = "import_too_large"


class DocumentNotReady(BotgptError):
    """A document is still being ingested, or failed; ``status`` says which."""

    code = "document_not_ready"

    def __init__(self, message: str, document_id: str, status: str) -> None:
        super().__init__(message)
        self.document_id = document_id
        self.status = status


class DocumentsUnavailable(BotgptError):
    """Every document a RAG conversation relied on has been deleted."""

    code = "documents_unavailable"


class UnsupportedDocument(InvalidRequest):
    """The upload's type is not one botgpt reads, or its content does not match its name."""

    code = "unsupported_document"


class UnreadableDocument(InvalidRequest):
    """The upload claims a supported type but cannot be read (empty, undecodable, a bomb)."""

    code = "unreadable_document"


class UploadTooLarge(InvalidRequest):
    code = "upload_too_large"


class EmbedderMismatch(InvalidRequest):
    """Vectors from different embedders cannot be compared."""

    code = "embedder_mismatch"


class EmbedderError(BotgptError):
    """The embedder failed. ``transient`` says whether a retry may succeed."""

    code = "embedder_error"

    def __init__(self, message: str, transient: bool = True) -> None:
        super().__init__(message)
        self.transient = transient


class Unauthorized(BotgptError):
    """No API key, or one that is unknown or revoked."""

    code = "unauthorized"


class Forbidden(BotgptError):
    """The request names a user other than the one its API key belongs to."""

    code = "forbidden"


class RateLimited(BotgptError):
    """A key's request or token limit is spent; ``retry_after`` says when it refills."""

    code = "rate_limited"

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class UnsupportedMode(InvalidRequest):
    """The requested conversation mode cannot be served by this deployment."""

    code = "unsupported_mode"


class ChatModelError(BotgptError):
    """A chat model call failed; nothing of the turn was stored."""

    code = "model_error"


class ModelUnavailable(ChatModelError):
    """The model cannot answer now (not loaded, overloaded, unreachable). Retrying may work."""

    code = "model_unavailable"

    def __init__(self, message: str, retry_after: float | None = None, detail: str = "") -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.detail = detail  # for the server log only, never for the client


class ModelFailed(ChatModelError):
    """The model rejected the request or returned something unusable."""

    code = "model_failed"
