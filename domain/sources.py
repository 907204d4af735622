"""Where a RAG turn's sources come from: the conversation's documents, searched for the
question, and as many of the best passages as the prompt has room for."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import attrs

from botgpt.domain.errors import BotgptError, DocumentsUnavailable, InvalidRequest, UnsupportedMode
from botgpt.domain.grounding import Source, citations_for, select_sources
from botgpt.domain.markers import marker_numbers
from botgpt.domain.model import Citation, Conversation, Message, Mode, ScopeRequest, SearchScope, Vector
from botgpt.domain.policy import ConversationPolicy
from botgpt.domain.prompting import PromptBuilder
from botgpt.domain.retrieval import RetrievalService, embed_queries
from botgpt.domain.snippets import snippet_of
from botgpt.domain.verification import (
    CitingSentence,
    SupportWeights,
    citing_sentences,
    sentence_support,
    strip_markers,
)
from botgpt.ports.tokens import TokenCounter

log = logging.getLogger(__name__)

# The instruction and "Sources:"/"Question:" labels around a grounded question.
GROUNDING_OVERHEAD_TOKENS = 48


@attrs.frozen
class Grounding:
    """A RAG turn's documents and sources. Without retrieval, only open chat is possible."""

    retrieval: RetrievalService | None
    tokens: TokenCounter
    policy: ConversationPolicy
    prompts: PromptBuilder
    weights: SupportWeights = SupportWeights()

    async def scope_for_new(self, user_id: str, mode: Mode, sources: ScopeRequest) -> SearchScope | None:
        """What a new conversation of ``mode`` searches (None for open chat), with every named
        document, collection and filter checked."""
        if mode is Mode.OPEN_CHAT:
            if sources.names_sources or sources.filters is not None:
                raise InvalidRequest("document_ids, collection_ids and filters apply only to rag_mode conversations")
            return None
        if self.retrieval is None:
            raise UnsupportedMode("rag_mode is not available: no retrieval is configured")
        return await self.retrieval.scope(user_id, sources)

    async def scope_of(self, conversation: Conversation) -> SearchScope | None:
        """What a conversation's turns search: None for open chat; else the documents and
        collections it names that still exist (deleted ones are skipped), or all of the user's
        documents when it names none; its filter narrows either."""
        if conversation.mode is Mode.OPEN_CHAT or self.retrieval is None:
            return None
        user_id = conversation.user_id
        documents = await self.retrieval.existing_document_ids(user_id, conversation.document_ids)
        collections = await self.retrieval.existing_collection_ids(user_id, conversation.collection_ids)
        named = conversation.document_ids or conversation.collection_ids
        if named and not (documents or collections):
            raise DocumentsUnavailable("every document and collection of this conversation has been deleted")
        sources = ScopeRequest(tuple(documents), tuple(collections), conversation.filters)
        return await self.retrieval.scope(user_id, sources)

    async def sources(self, user_message: Message, scope: SearchScope, system: str) -> list[Source]:
        """The best passages for the question that fit beside the system prompt and the question."""
        assert self.retrieval is not None
        found = await self.retrieval.search_scope(user_message.content, scope, self.policy.rag_top_k)
        if not found.hits:
            # Answering without grounding would misrepresent the answer as grounded.
            raise DocumentsUnavailable("nothing in this conversation's scope is ready to search: no passage was found")
        room = self.prompts.budget().history_room(
            self.tokens.count(system), user_message.tokens + GROUNDING_OVERHEAD_TOKENS
        )
        budget = min(self.policy.rag_context_tokens, room)
        filenames = {document_id: document.filename for document_id, document in found.documents.items()}
        return select_sources(found.hits, filenames, budget, self.tokens)

    async def cite(self, answer: str, sources: Sequence[Source]) -> tuple[str, tuple[Citation, ...]]:
        """The answer's text and citations, each with its support by the sentences that cite it
        and a snippet that marks the supporting sentence.

        Markers that name no source given are removed from the text. An answer without markers
        lists only the sources whose support passes the check; with
        ``drop_unsupported_citations``, cited but unsupported ones are removed with their markers.
        """
        if not sources:
            return answer, ()  # not grounded: a "[1]" in the text is the model's own
        chunks = {source.number: source.scored.chunk for source in sources}
        answer = strip_markers(answer, set(marker_numbers(answer)) - set(chunks))
        citations = citations_for(answer, sources)
        if not citations:
            return answer, citations
        sentences = citing_sentences(answer)
        vectors = await self._sentence_vectors(sentences)
        if vectors is None:
            return answer, citations
        any_marker = any(sentence.numbers for sentence in sentences)
        verified = []
        for citation in citations:
            chunk = chunks[citation.number]
            scores = [
                (sentence_support(sentence.text, vector, chunk, self.weights), sentence.text)
                for sentence, vector in zip(sentences, vectors, strict=True)
                if citation.number in sentence.numbers or not any_marker
            ]
            verified.append(self._judged(citation, chunk.text, max(scores, default=None)))
        return self._kept(answer, verified, any_marker)

    def _judged(self, citation: Citation, passage: str, best: tuple[float, str] | None) -> Citation:
        if best is None:
            return citation
        support, claim = best
        supported = support >= self.policy.citation_min_support
        snippet = snippet_of(passage, claim)
        start, end = snippet.highlight or (None, None)
        return attrs.evolve(
            citation,
            support=round(support, 4),
            supported=supported,
            snippet=snippet.text,
            highlight_start=start,
            highlight_end=end,
        )

    def _kept(self, answer: str, citations: list[Citation], any_marker: bool) -> tuple[str, tuple[Citation, ...]]:
        # Without markers the answer claims no source: only the check can say which it rests on.
        if any_marker and not self.policy.drop_unsupported_citations:
            return answer, tuple(citations)
        dropped = [citation.number for citation in citations if citation.supported is False]
        kept = tuple(citation for citation in citations if citation.supported is not False)
        return strip_markers(answer, dropped), kept

    async def _sentence_vectors(self, sentences: Sequence[CitingSentence]) -> list[Vector] | None:
        # A failed check must not cost the user the answer: it stays, unverified.
        if self.retrieval is None or not sentences:
            return None
        try:
            return await embed_queries(self.retrieval.embedder, [sentence.text for sentence in sentences])
        except BotgptError as error:
            log.warning("citations left unverified: %s", error)
            return None
