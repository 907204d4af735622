"""Calibrate the citation support score on XQuAD: weights of its two signals, and the threshold.

Each XQuAD question becomes an answer sentence, "<question> <gold answer>", the kind of
sentence that cites a source. It is paired with two chunks, made by botgpt's own chunker:
- supported: the chunk of the gold passage that holds the answer span;
- unsupported: the best-ranked chunk of any other passage, by botgpt's hybrid retriever
  (a hard negative: on topic, but without the answer).

Questions are split in two halves by id. Weights and threshold are chosen on the first half
(best F1); precision, recall and F1 are then read on the second half. Prints the figures.

    python bench/citation_calibration.py --data ../shared/data/xquad_en
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs
from retrieval_eval import CachedEmbedder, build_corpus, cache_dir, load_cache, read_jsonl, save_cache

from botgpt.domain.model import Chunk
from botgpt.domain.verification import SupportWeights, cosine, lexical_support, support_score
from botgpt.entrypoints.resources import embedder as embedder_resource
from botgpt.entrypoints.resources import retriever as build_retriever
from botgpt.entrypoints.settings import Settings
from botgpt.plugins.manager import plugin_manager


@attrs.frozen
class Pair:
    """An answer sentence, a chunk, whether the chunk supports it, and the two signals."""

    question_id: str
    supported: bool
    lexical: float
    semantic: float


def holding_chunk(chunks: Sequence[Chunk], start: int) -> Chunk | None:
    return next((chunk for chunk in chunks if chunk.start <= start < chunk.end), None)


async def pairs_of(settings: Settings, data: Path) -> list[Pair]:
    corpus = read_jsonl(data / "corpus.jsonl")
    questions = read_jsonl(data / "qa.jsonl")
    config = settings.as_dict()
    key = hashlib.sha256(f"{data.name}-{settings.chunker}-{settings.chunk_tokens}-{settings.embedder}".encode())
    cache_path = cache_dir() / f"calibration-{key.hexdigest()[:12]}.npy"
    cache = load_cache(cache_path)
    pairs: list[Pair] = []
    async for inner in embedder_resource(plugin_manager(), config):
        embedder = CachedEmbedder(inner, cache)
        store = await build_corpus(settings, corpus, embedder)
        documents = await store.list_documents("eval", 10**9, 0)
        retriever = build_retriever(plugin_manager(), config, store, embedder)
        sentences = [f"{row['question']} {row['answers'][0]}" for row in questions]
        vectors = await embedder.embed_queries(sentences)
        save_cache(cache_path, cache)
        for row, sentence, vector in zip(questions, sentences, vectors, strict=True):
            gold = holding_chunk(await store.chunks_of(row["passage_id"]), row["answer_starts"][0])
            hits = await retriever.search(row["question"], documents, 10)
            other = next((hit.chunk for hit in hits if hit.chunk.document_id != row["passage_id"]), None)
            for chunk, supported in ((gold, True), (other, False)):
                if chunk is not None:
                    lexical = lexical_support(sentence, chunk.text)
                    pairs.append(Pair(row["id"], supported, lexical, cosine(vector, chunk.vector)))
    return pairs


def scores(pairs: Sequence[Pair], weights: SupportWeights) -> list[tuple[float, bool]]:
    return [(support_score(p.lexical, p.semantic, weights), p.supported) for p in pairs]


def f1_at(scored: Sequence[tuple[float, bool]], threshold: float) -> tuple[float, float, float]:
    flagged = [supported for score, supported in scored if score >= threshold]
    true_positives = sum(flagged)
    positives = sum(supported for _, supported in scored)
    precision = true_positives / len(flagged) if flagged else 0.0
    recall = true_positives / positives if positives else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def auc(scored: Sequence[tuple[float, bool]]) -> float:
    positive = [s for s, supported in scored if supported]
    negative = [s for s, supported in scored if not supported]
    wins = sum((p > n) + 0.5 * (p == n) for p in positive for n in negative)
    return wins / (len(positive) * len(negative))


def calibrate(pairs: Sequence[Pair]) -> tuple[SupportWeights, float]:
    grid = [SupportWeights(lexical=w / 10, semantic=1 - w / 10) for w in range(11)]
    thresholds = [t / 100 for t in range(5, 96)]
    best = max(
        ((weights, threshold) for weights in grid for threshold in thresholds),
        key=lambda choice: f1_at(scores(pairs, choice[0]), choice[1])[2],
    )
    return best


def report(name: str, pairs: Sequence[Pair], weights: SupportWeights, threshold: float) -> None:
    scored = scores(pairs, weights)
    precision, recall, f1 = f1_at(scored, threshold)
    print(f"{name}: pairs={len(pairs)} AUC={auc(scored):.3f} precision={precision:.3f} recall={recall:.3f} F1={f1:.3f}")


def half(question_id: str) -> int:
    return int(hashlib.sha256(question_id.encode()).hexdigest(), 16) % 2


async def main(args: argparse.Namespace) -> None:
    settings = Settings.load()
    pairs = await pairs_of(settings, args.data)
    tune = [p for p in pairs if half(p.question_id) == 0]
    held_out = [p for p in pairs if half(p.question_id) == 1]
    weights, threshold = calibrate(tune)
    print(f"embedder={settings.embedder} chosen on the tuning half: {weights} threshold={threshold:.2f}")
    for name, only in (("lexical only", SupportWeights(1.0, 0.0)), ("semantic only", SupportWeights(0.0, 1.0))):
        signal_threshold = calibrate_threshold(tune, only)
        report(f"held-out, {name} (threshold {signal_threshold:.2f})", held_out, only, signal_threshold)
    report("tuning half", tune, weights, threshold)
    report("held-out half", held_out, weights, threshold)


def calibrate_threshold(pairs: Sequence[Pair], weights: SupportWeights) -> float:
    return max((t / 100 for t in range(5, 96)), key=lambda t: f1_at(scores(pairs, weights), t)[2])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--data", type=Path, required=True)
    arguments: Any = parser.parse_args()
    asyncio.run(main(arguments))
    sys.exit(0)
