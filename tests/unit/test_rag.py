"""Grounded conversations and retrieval orchestration."""

from __future__ import annotations

from collections.abc import Sequence

import attrs
import pytest

from botgpt.adapters.memory_documents import MemoryDocumentStore
from botgpt.adapters.memory_store import MemoryConversationStore
from botgpt.domain.conversations import ConversationService
from botgpt.domain.documents import DocumentService
from botgpt.domain.errors import (
    DocumentNotFound,
    DocumentNotReady,
    DocumentsUnavailable,
    EmbedderMismatch,
    InvalidRequest,
)
from botgpt.domain.fusion import convex_fusion, reciprocal_rank_fusion
from botgpt.domain.grounding import INSTRUCTION, citations_for, select_sources
from botgpt.domain.ingestion import IngestionWorker
from botgpt.domain.model import Chunk, Mode, Role, ScoredChunk
from botgpt.domain.policy import ConversationPolicy
from botgpt.domain.retrieval import RetrievalService
from tests.conftest import SteppingClock
from tests.fakes import HashingEmbedder, ScriptedChatModel, WordCounter
from tests.unit.conftest import stream

LIGHTHOUSES = b"""Lighthouses guide ships at night. The Fresnel lens made their light visible far away.
Keepers lived in small houses next to the tower. Automation replaced most keepers by 1990.
"""
BREAD = b"""Bread needs flour, water, salt and yeast. Dough rises in a warm place.
Sourdough uses a starter instead of commercial yeast.
"""


@pytest.fixture
def chat() -> ScriptedChatModel:
    return ScriptedChatModel(answers=["The Fresnel lens did [1].", "Keepers lived next to it [2] [9]."] * 3)


@pytest.fixture
def rag_service(chat: ScriptedChatModel, retrieval: RetrievalService) -> ConversationService:
    return ConversationService(
        store=MemoryConversationStore(),
        chat=chat,
        tokens=WordCounter(),
        policy=ConversationPolicy(rag_top_k=3, rag_context_tokens=200),
        clock=SteppingClock(),
        retrieval=retrieval,
    )


async def ready_document(service: DocumentService, worker: IngestionWorker, data: bytes, name: str) -> str:
    document_id = (await service.upload("alice", name, stream(data))).document.id
    assert await worker.run_once()
    return document_id


async def test_a_rag_turn_cites_retrieved_chunks(
    rag_service: ConversationService,
    document_service: DocumentService,
    worker: IngestionWorker,
    chat: ScriptedChatModel,
) -> None:
    doc = await ready_document(document_service, worker, LIGHTHOUSES, "lighthouses.txt")
    turn = await rag_service.start("alice", "What made the light visible far away?", Mode.RAG, [doc])

    final = chat.prompts[-1][-1]
    assert final.role is Role.USER and final.content.startswith(INSTRUCTION)
    assert "[1] (lighthouses.txt)" in final.content and "Question: What made" in final.content
    citations = turn.assistant_message.citations
    assert len(citations) == 1 and citations[0].document_id == doc
    cited_text = LIGHTHOUSES.decode()[citations[0].start : citations[0].end]
    assert "Fresnel" in cited_text and citations[0].snippet in cited_text
    assert turn.user_message.content == "What made the light visible far away?"  # stored raw


async def test_markers_outside_the_sources_are_not_cited(
    rag_service: ConversationService, document_service: DocumentService, worker: IngestionWorker
) -> None:
    doc = await ready_document(document_service, worker, LIGHTHOUSES, "lighthouses.txt")
    first = await rag_service.start("alice", "What made the light visible?", Mode.RAG, [doc])
    second = await rag_service.post("alice", first.conversation.id, "Where did keepers live?")
    assert len(second.assistant_message.citations) == 1  # [2] is cited, [9] was never retrieved


async def test_the_prompt_prefix_is_stable_across_rag_turns(
    rag_service: ConversationService,
    document_service: DocumentService,
    worker: IngestionWorker,
    chat: ScriptedChatModel,
) -> None:
    doc = await ready_document(document_service, worker, LIGHTHOUSES, "lighthouses.txt")
    first = await rag_service.start("alice", "What made the light visible?", Mode.RAG, [doc])
    await rag_service.post("alice", first.conversation.id, "Where did keepers live?")
    turn_one, turn_two = chat.prompts
    assert turn_two[0] == turn_one[0]  # same system prompt, no sources in it
    assert turn_two[1].content == "What made the light visible?"  # history holds the raw question


async def test_rag_needs_ready_owned_documents(
    rag_service: ConversationService, document_service: DocumentService
) -> None:
    pending = (await document_service.upload("alice", "l.txt", stream(LIGHTHOUSES))).document.id
    with pytest.raises(DocumentNotReady) as raised:
        await rag_service.start("alice", "q?", Mode.RAG, [pending])
    assert raised.value.status == "pending"
    with pytest.raises(DocumentNotFound):
        await rag_service.start("bob", "q?", Mode.RAG, [pending])


async def test_a_rag_conversation_naming_no_documents_searches_all_ready_ones(
    rag_service: ConversationService,
    document_service: DocumentService,
    worker: IngestionWorker,
    chat: ScriptedChatModel,
) -> None:
    light = await ready_document(document_service, worker, LIGHTHOUSES, "lighthouses.txt")
    await document_service.upload("alice", "bread.txt", stream(BREAD))  # still pending: not searched
    turn = await rag_service.start("alice", "What made the light visible?", Mode.RAG, [])
    assert turn.conversation.document_ids == ()
    assert {c.document_id for c in turn.assistant_message.citations} == {light}
    assert "Sourdough" not in chat.prompts[-1][-1].content
    assert await worker.run_once()  # the bread document becomes ready: the conversation sees it
    await rag_service.post("alice", turn.conversation.id, "What does sourdough use instead of yeast?")
    assert "Sourdough uses a starter" in chat.prompts[-1][-1].content


async def test_search_without_documents_covers_only_the_callers_ready_documents(
    document_service: DocumentService, worker: IngestionWorker, retrieval: RetrievalService
) -> None:
    light = await ready_document(document_service, worker, LIGHTHOUSES, "lighthouses.txt")
    bobs = (await document_service.upload("bob", "bread.txt", stream(BREAD))).document.id
    assert await worker.run_once()
    hits = await retrieval.search("alice", "sourdough starter yeast lens", k=10)
    assert hits and {hit.chunk.document_id for hit in hits} == {light}
    assert {hit.chunk.document_id for hit in await retrieval.search("bob", "lens yeast", k=10)} == {bobs}
    with pytest.raises(InvalidRequest):
        await retrieval.search(None, "lens")


async def test_deleted_documents_are_skipped_then_the_conversation_is_unavailable(
    rag_service: ConversationService,
    document_service: DocumentService,
    worker: IngestionWorker,
    retrieval: RetrievalService,
) -> None:
    light = await ready_document(document_service, worker, LIGHTHOUSES, "lighthouses.txt")
    bread = await ready_document(document_service, worker, BREAD, "bread.txt")
    turn = await rag_service.start("alice", "What does sourdough use?", Mode.RAG, [light, bread])
    await document_service.delete("alice", bread)

    after = await rag_service.post("alice", turn.conversation.id, "And what does dough need?")
    assert {c.document_id for c in after.assistant_message.citations} <= {light}

    await document_service.delete("alice", light)
    with pytest.raises(DocumentsUnavailable):
        await rag_service.post("alice", turn.conversation.id, "Anything left?")


async def test_retrieval_never_returns_deleted_chunks(
    document_service: DocumentService,
    worker: IngestionWorker,
    retrieval: RetrievalService,
    documents_store: MemoryDocumentStore,
) -> None:
    doc = await ready_document(document_service, worker, LIGHTHOUSES, "lighthouses.txt")
    assert await retrieval.search("alice", "Fresnel lens", [doc], k=2)
    await document_service.delete("alice", doc)
    with pytest.raises(DocumentNotFound):
        await retrieval.search("alice", "Fresnel lens", [doc], k=2)
    assert await documents_store.chunks_of(doc) == []


async def test_search_ranks_the_relevant_chunk_first(
    document_service: DocumentService, worker: IngestionWorker, retrieval: RetrievalService
) -> None:
    light = await ready_document(document_service, worker, LIGHTHOUSES, "lighthouses.txt")
    bread = await ready_document(document_service, worker, BREAD, "bread.txt")
    hits = await retrieval.search("alice", "sourdough starter yeast", [light, bread], k=3)
    assert hits[0].chunk.document_id == bread and "starter" in hits[0].chunk.text
    assert dict(hits[0].ranks).keys() == {"dense", "bm25"}


async def test_vectors_from_another_embedder_are_refused(
    document_service: DocumentService, worker: IngestionWorker, retrieval: RetrievalService
) -> None:
    doc = await ready_document(document_service, worker, LIGHTHOUSES, "lighthouses.txt")
    retrieval.embedder = HashingEmbedder(name="another-model")
    with pytest.raises(EmbedderMismatch, match="hashing"):
        await retrieval.search("alice", "lens", [doc], k=2)


@pytest.mark.parametrize(("query", "k"), [("", 3), ("x" * 5000, 3), ("ok", 0), ("ok", 101)])
async def test_bad_searches(retrieval: RetrievalService, query: str, k: int) -> None:
    with pytest.raises(InvalidRequest):
        await retrieval.search("alice", query, ["0" * 32], k=k)


def scored(chunk_ids: list[str]) -> list[ScoredChunk]:
    return [ScoredChunk(Chunk(i, "d", n, 0, 1, i), 1.0 / (n + 1)) for n, i in enumerate(chunk_ids)]


def test_fusion_rewards_agreement_and_records_ranks() -> None:
    fused = reciprocal_rank_fusion({"dense": scored(["a", "b", "c"]), "bm25": scored(["c", "b", "d"])}, k=3)
    # c: 1/(60+3) + 1/(60+1) beats b: 2/(60+2), and both beat a and d, found once each.
    assert [f.chunk.id for f in fused] == ["c", "b", "a"]
    assert dict(next(f for f in fused if f.chunk.id == "c").ranks) == {"dense": 3, "bm25": 1}
    assert len(fused) == 3


def test_sources_fit_their_budget_in_rank_order() -> None:
    hits = scored(["one two three", "four five", "six"])
    sources = select_sources(hits, {"d": "f.txt"}, budget=13, tokens=WordCounter())
    assert [s.number for s in sources] == [1, 2]
    assert citations_for("see [2]", sources)[0].chunk_id == "four five"
    assert len(citations_for("no markers", sources)) == 2


class ReversingReranker:
    """Puts the retriever's last candidate first: shows that the stage reorders before the cut."""

    name = "reversing"

    def __init__(self) -> None:
        self.seen: list[int] = []

    async def rerank(self, query: str, hits: Sequence[ScoredChunk]) -> list[ScoredChunk]:
        self.seen.append(len(hits))
        return [attrs.evolve(hit, ranks=(*hit.ranks, (self.name, rank))) for rank, hit in enumerate(reversed(hits), 1)]


async def test_a_reranker_reorders_the_retrievers_top_depth_before_the_best_k_are_kept(
    retrieval: RetrievalService, document_service: DocumentService, worker: IngestionWorker
) -> None:
    doc = await ready_document(document_service, worker, LIGHTHOUSES + BREAD, "mixed.txt")
    plain = await retrieval.search("alice", "Fresnel lens light", [doc], k=10)
    reranker = ReversingReranker()
    reranked = RetrievalService(
        retrieval.store, retrieval.retriever, retrieval.embedder, reranker=reranker, rerank_depth=len(plain)
    )
    hits = await reranked.search("alice", "Fresnel lens light", [doc], k=1)
    assert reranker.seen == [len(plain)] and len(plain) > 1
    assert hits[0].chunk == plain[-1].chunk and ("reversing", 1) in hits[0].ranks


def test_the_cross_encoder_reranker_is_a_plugin_that_needs_a_local_model() -> None:
    from botgpt.plugins.builtin.rerankers import build_cross_encoder
    from botgpt.plugins.hookspecs import PluginContext

    with pytest.raises(ValueError, match="BOTGPT_RERANKER_MODEL_PATH"):
        build_cross_encoder(PluginContext({"reranker_model_path": ""}))


def hit_of(chunk_id: str, score: float) -> ScoredChunk:
    return ScoredChunk(Chunk(chunk_id, "d", 0, 0, 1, chunk_id), score)


def test_convex_fusion_blends_scores_of_unlike_scales_scaled_by_the_best() -> None:
    bm25 = [hit_of("a", 12.0), hit_of("b", 9.0), hit_of("c", 3.0)]
    dense = [hit_of("c", 0.8), hit_of("b", 0.6), hit_of("a", 0.2)]
    fused = convex_fusion({"bm25": bm25, "dense": dense}, k=3)
    assert [hit.chunk.id for hit in fused] == ["b", "a", "c"]
    assert [hit.score for hit in fused] == pytest.approx([0.75 + 0.75, 1.0 + 0.25, 0.25 + 1.0])
    weighted = convex_fusion({"bm25": bm25, "dense": dense}, k=1, weights={"bm25": 0.01, "dense": 1.0})
    assert weighted[0].chunk.id == "c"


def test_convex_fusion_counts_a_chunk_below_a_full_rankings_cut_at_its_last_score() -> None:
    bm25 = [hit_of("a", 10.0), hit_of("b", 8.0)]
    dense = [hit_of("c", 0.9), hit_of("a", 0.3)]
    # Both rankings were cut at depth 2: c scored at most b's 0.8 in BM25, b at most a's 1/3 in dense.
    cut = {hit.chunk.id: hit.score for hit in convex_fusion({"bm25": bm25, "dense": dense}, k=3, depth=2)}
    assert cut == pytest.approx({"a": 1.0 + 1 / 3, "b": 0.8 + 1 / 3, "c": 0.8 + 1.0})
    # A ranking shorter than the depth was complete: what it did not return scored nothing.
    whole = {hit.chunk.id: hit.score for hit in convex_fusion({"bm25": bm25, "dense": dense}, k=3, depth=5)}
    assert whole == pytest.approx({"a": 1.0 + 1 / 3, "b": 0.8, "c": 1.0})


def test_convex_fusion_scales_rankings_without_a_positive_score_between_their_extremes() -> None:
    negative = [hit_of("a", -1.0), hit_of("b", -3.0)]
    fused = convex_fusion({"odd": negative}, k=2)
    assert [(hit.chunk.id, hit.score) for hit in fused] == [("a", 1.0), ("b", 0.0)]
