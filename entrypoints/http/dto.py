"""HTTP request and response bodies (attrs, validated through msgspec).

They keep the seed's field names; the domain objects stay free of API concerns.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs

from botgpt.domain.model import (
    Conversation,
    ConversationDetail,
    Document,
    Message,
    Mode,
    Page,
    ScoredChunk,
    Turn,
    UsageTotals,
)


@attrs.define
class CreateConversationIn:
    message: str
    user_id: str | None = None
    mode: Mode = Mode.OPEN_CHAT
    document_ids: list[str] | None = None
    stream: bool = False


@attrs.define
class PostMessageIn:
    message: str
    user_id: str | None = None
    stream: bool = False


@attrs.define
class RenameIn:
    title: str
    user_id: str | None = None


@attrs.define
class ListQuery:
    user_id: str | None = None
    limit: int = 20
    offset: int = 0
    cursor: str | None = None


@attrs.define
class OwnerQuery:
    user_id: str | None = None


@attrs.define
class CitationOut:
    document_id: str
    filename: str
    chunk_id: str
    start: int
    end: int
    score: float
    snippet: str


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


@attrs.define
class ConversationOut:
    id: str
    user_id: str
    title: str
    mode: str
    document_ids: list[str]
    created_at: datetime
    updated_at: datetime
    message_count: int
    total_tokens: int
    prompt_tokens: int
    completion_tokens: int
    metadata: dict[str, Any]


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
class DeletedOut:
    deleted: bool
    conversation_id: str
    message: str


@attrs.define
class HealthOut:
    status: str
    service: str
    version: str


@attrs.define
class ReadyOut:
    status: str
    checks: dict[str, str]


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
    )


def conversation_out(conversation: Conversation) -> ConversationOut:
    return ConversationOut(
        id=conversation.id,
        user_id=conversation.user_id,
        title=conversation.title,
        mode=conversation.mode.value,
        document_ids=list(conversation.document_ids),
        created_at=conversation.created_at,
        updated_at=conversation.updated_at,
        message_count=conversation.message_count,
        total_tokens=conversation.total_tokens,
        prompt_tokens=conversation.prompt_tokens,
        completion_tokens=conversation.completion_tokens,
        metadata={},
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


def detail_out(detail: ConversationDetail) -> ConversationDetailOut:
    return ConversationDetailOut(
        conversation=conversation_out(detail.conversation),
        messages=[message_out(message) for message in detail.messages],
    )


@attrs.define
class ProgressOut:
    chunks_embedded: int
    chunks_total: int


@attrs.define
class DocumentOut:
    id: str
    document_id: str
    user_id: str
    filename: str
    content_type: str
    file_size: int
    sha256: str
    status: str
    is_vectorized: bool
    progress: ProgressOut
    chunk_count: int
    error: str | None
    embedder: str | None
    created_at: datetime
    updated_at: datetime
    metadata: dict[str, Any]


@attrs.define
class UploadOut(DocumentOut):
    duplicate: bool = False
    chunks: int = 0


@attrs.define
class DocumentListOut:
    documents: list[DocumentOut]
    total: int
    limit: int
    offset: int
    has_more: bool


@attrs.define
class DocumentDeletedOut:
    deleted: bool
    document_id: str
    message: str


@attrs.define
class SearchIn:
    query: str
    document_ids: list[str]
    k: int = 5
    explain: bool = False
    user_id: str | None = None


@attrs.define
class SearchHitOut:
    rank: int
    score: float
    document_id: str
    filename: str
    chunk_id: str
    start: int
    end: int
    text: str
    ranks: dict[str, int] | None


@attrs.define
class SearchOut:
    query: str
    retriever: str
    results: list[SearchHitOut]


@attrs.define
class DocumentListQuery:
    user_id: str | None = None
    limit: int = 20
    offset: int = 0


def document_out(document: Document) -> DocumentOut:
    return DocumentOut(**_document_fields(document))


def upload_out(document: Document, duplicate: bool) -> UploadOut:
    return UploadOut(**_document_fields(document), duplicate=duplicate, chunks=document.chunks_total)


def _document_fields(document: Document) -> dict[str, Any]:
    return dict(
        id=document.id,
        document_id=document.id,
        user_id=document.user_id,
        filename=document.filename,
        content_type=document.content_type,
        file_size=document.size_bytes,
        sha256=document.sha256,
        status=document.status.value,
        is_vectorized=document.is_vectorized,
        progress=ProgressOut(document.chunks_embedded, document.chunks_total),
        chunk_count=document.chunks_total,
        error=document.error,
        embedder=document.embedder,
        created_at=document.created_at,
        updated_at=document.updated_at,
        metadata={"content_type": document.content_type, "original_filename": document.filename},
    )


def document_page_out(page: Page[Document]) -> DocumentListOut:
    return DocumentListOut(
        documents=[document_out(d) for d in page.items],
        total=page.total,
        limit=page.limit,
        offset=page.offset,
        has_more=page.has_more,
    )


def search_out(
    query: str, retriever: str, hits: list[ScoredChunk], filenames: dict[str, str], explain: bool
) -> SearchOut:
    return SearchOut(
        query=query,
        retriever=retriever,
        results=[
            SearchHitOut(
                rank=rank,
                score=round(hit.score, 6),
                document_id=hit.chunk.document_id,
                filename=filenames.get(hit.chunk.document_id, ""),
                chunk_id=hit.chunk.id,
                start=hit.chunk.start,
                end=hit.chunk.end,
                text=hit.chunk.text,
                ranks=dict(hit.ranks) if explain else None,
            )
            for rank, hit in enumerate(hits, start=1)
        ],
    )


@attrs.define
class UsageTotalsOut:
    requests: int
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


@attrs.define
class ConversationUsageOut:
    conversation_id: str
    title: str
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


@attrs.define
class UsageOut:
    user_id: str
    totals: UsageTotalsOut
    conversations: list[ConversationUsageOut]
    total: int
    limit: int
    offset: int
    has_more: bool
    next_cursor: str | None


def usage_out(user_id: str, totals: UsageTotals, page: Page[Conversation]) -> UsageOut:
    return UsageOut(
        user_id=user_id,
        totals=UsageTotalsOut(totals.requests, totals.prompt_tokens, totals.completion_tokens, totals.total_tokens),
        conversations=[
            ConversationUsageOut(
                c.id, c.title, c.prompt_tokens, c.completion_tokens, c.prompt_tokens + c.completion_tokens
            )
            for c in page.items
        ],
        total=page.total, limit=page.limit, offset=page.offset, has_more=page.has_more, next_cursor=page.next_cursor,
    )  # fmt: skip
