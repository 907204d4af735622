"""The domain model: value objects and entities, all immutable.

One package, three modules: conversations, documents and accounts. Import from here.
"""

from __future__ import annotations

from botgpt.domain.model.accounts import (
    ApiKey,
    UsageTotals,
)
from botgpt.domain.model.conversations import (
    ChatMessage,
    Citation,
    Completion,
    Conversation,
    ConversationDetail,
    ConversationTree,
    ListPosition,
    Message,
    Mode,
    Page,
    Role,
    Siblings,
    Summary,
    Turn,
)
from botgpt.domain.model.documents import (
    Chunk,
    ChunkSpan,
    Document,
    DocumentStatus,
    IngestionJob,
    ScoredChunk,
    SearchScope,
    Vector,
)

__all__ = [
    "ApiKey",
    "ChatMessage",
    "Chunk",
    "ChunkSpan",
    "Citation",
    "Completion",
    "Conversation",
    "ConversationDetail",
    "ConversationTree",
    "Document",
    "DocumentStatus",
    "IngestionJob",
    "ListPosition",
    "Message",
    "Mode",
    "Page",
    "Role",
    "ScoredChunk",
    "SearchScope",
    "Siblings",
    "Summary",
    "Turn",
    "UsageTotals",
    "Vector",
]
