"""Where a RAG turn's sources come from: the conversation's documents, searched for the
question, and as many of the best passages as the prompt has room for."""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from botgpt.domain.errors import DocumentsUnavailable, InvalidRequest, UnsupportedMode
from botgpt.domain.grounding import Source, select_sources
from botgpt.domain.model import Conversation, Document, Message, Mode
from botgpt.domain.policy import ConversationPolicy
from botgpt.domain.prompting import PromptBuilder
from botgpt.domain.retrieval import RetrievalService
from botgpt.ports.tokens import TokenCounter

# The instruction and "Sources:"/"Question:" labels around a grounded question.
GROUNDING_OVERHEAD_TOKENS = 48


@attrs.frozen
class Grounding:
    """A RAG turn's documents and sources. Without retrieval, only open chat is possible."""

    retrieval: RetrievalService | None
    tokens: TokenCounter
    policy: ConversationPolicy
    prompts: PromptBuilder

    async def documents_for_new(self, user_id: str, mode: Mode, document_ids: Sequence[str]) -> list[Document]:
        """The ready documents a new conversation of ``mode`` is grounded in (none for open chat)."""
        if mode is Mode.OPEN_CHAT:
            if document_ids:
                raise InvalidRequest("document_ids apply only to rag_mode conversations")
            return []
        if self.retrieval is None:
            raise UnsupportedMode("rag_mode is not available: no retrieval is configured")
        return await self.retrieval.ready_documents(user_id, document_ids)

    async def documents_of(self, conversation: Conversation) -> list[Document]:
        """A RAG conversation's documents that still exist; deleted ones are skipped."""
        if conversation.mode is Mode.OPEN_CHAT or self.retrieval is None:
            return []
        remaining = await self.retrieval.existing_document_ids(conversation.user_id, conversation.document_ids)
        if not remaining:
            raise DocumentsUnavailable("every document of this conversation has been deleted")
        return await self.retrieval.ready_documents(conversation.user_id, remaining)

    async def sources(self, user_message: Message, documents: Sequence[Document], system: str) -> list[Source]:
        """The best passages for the question that fit beside the system prompt and the question."""
        assert self.retrieval is not None
        retrieved = await self.retrieval.search_documents(user_message.content, documents, self.policy.rag_top_k)
        room = self.prompts.budget().history_room(
            self.tokens.count(system), user_message.tokens + GROUNDING_OVERHEAD_TOKENS
        )
        budget = min(self.policy.rag_context_tokens, room)
        return select_sources(retrieved, {d.id: d.filename for d in documents}, budget, self.tokens)
