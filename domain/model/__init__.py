"""The domain model: value objects and entities, all immutable.

One package, three modules: conversations, documents and accounts. Import from here.
"""

from __future__ import annotations

from botgpt.domain.model.accounts import (
    ApiKey,
    UsageTotals,
)
from botgpt.domain.model.collections import AttributeValue, Collection, DocumentCounts
from botgpt.domain.model.conversations import (
    ChatMessage,
    Citation,
    Completion,
    Conversation,
    ConversationDetail,
    ConversationTree,
    FinishReason,
    GenerationOptions,
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
    JobCounts,
    ScopeRequest,
    ScoredChunk,
    SearchScope,
    Vector,
)

__all__ = [
    "ApiKey",
    "AttributeValue",
    "ChatMessage",
    "Chunk",
    "ChunkSpan",
    "Citation",
    "Collection",
    "Completion",
    "Conversation",
    "ConversationDetail",
    "ConversationTree",
    "Document",
    "DocumentCounts",
    "DocumentStatus",
    "FinishReason",
    "GenerationOptions",
    "IngestionJob",
    "JobCounts",
    "ListPosition",
    "Message",
    "Mode",
    "Page",
    "Role",
    "ScopeRequest",
    "ScoredChunk",
    "SearchScope",
    "Siblings",
    "Summary",
    "Turn",
    "UsageTotals",
    "Vector",
]
