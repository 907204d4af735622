"""Calibrate the citation support score on XQuAD: weights of its two signals, and the threshold.

Each XQuAD question becomes an answer sentence, "<question> <gold answer>", the kind of
sentence that cites a source. It is paired with two chunks, made by botgpt's own chunker:
- supported: the chunk of the gold passage that holds the answer span;
- unsupported: the best-ranked chunk of any other passage, by botgpt's hybrid retriever
  (a hard negative: on topic, but without the answer).
A third set checks misquoted figures: when the gold answer holds a number, the sentence with
that number changed (each number plus one) is paired with the gold chunk, which does not
support it. The share of them scored below the threshold is printed with and without the
numbers check (the blend times the share of the sentence's numbers the chunk states).

Questions are split in two halves by id. Weights and threshold are chosen on the first half
(best F1); precision, recall and F1 are then read on the second half. Prints the figures.

    python bench/citation_calibration.py --data ../shared/data/xquad_en
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs
from retrieval_eval import CachedEmbedder, build_corpus, cache_dir, load_cache, read_jsonl, save_cache

from botgpt.domain.model import Chunk
from botgpt.domain.verification import SupportWeights, cosine, lexical_support, numeric_agreement, support_score
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
    numbers: float = 1.0
    misquoted: bool = False


def misquote(answer: str) -> str | None:
    """The answer with every number in it changed (plus one), or None if it states none."""
    changed = re.sub(r"\d+", lambda m: str(int(m.group()) + 1), answer)
    return changed if changed != answer else None


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
        wrong = {row["id"]: misquote(row["answers"][0]) for row in questions}
        misquoted = [f"{row['question']} {wrong[row['id']]}" for row in questions if wrong[row["id"]]]
        vectors = dict(zip(sentences + misquoted, await embedder.embed_queries(sentences + misquoted), strict=True))
        save_cache(cache_path, cache)
        for row, sentence in zip(questions, sentences, strict=True):
            gold = holding_chunk(await store.chunks_of(row["passage_id"]), row["answer_starts"][0])
            hits = await retriever.search(row["question"], documents, 10)
            other = next((hit.chunk for hit in hits if hit.chunk.document_id != row["passage_id"]), None)
            cases = [(sentence, gold, True, False), (sentence, other, False, False)]
            if wrong[row["id"]]:
                cases.append((f"{row['question']} {wrong[row['id']]}", gold, False, True))
            for text, chunk, supported, is_misquote in cases:
                if chunk is not None:
                    signals = lexical_support(text, chunk.text), cosine(vectors[text], chunk.vector)
                    numbers = numeric_agreement(text, chunk.text)
                    pairs.append(Pair(row["id"], supported, *signals, numbers, is_misquote))
    return pairs


def scores(pairs: Sequence[Pair], weights: SupportWeights, numbers: bool = True) -> list[tuple[float, bool]]:
    return [
        (support_score(p.lexical, p.semantic, weights) * (p.numbers if numbers else 1.0), p.supported) for p in pairs
    ]


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


def report(name: str, pairs: Sequence[Pair], weights: SupportWeights, threshold: float, numbers: bool = True) -> None:
    scored = scores(pairs, weights, numbers)
    precision, recall, f1 = f1_at(scored, threshold)
    print(f"{name}: pairs={len(pairs)} AUC={auc(scored):.3f} precision={precision:.3f} recall={recall:.3f} F1={f1:.3f}")


def half(question_id: str) -> int:
    return int(hashlib.sha256(question_id.encode()).hexdigest(), 16) % 2


async def main(args: argparse.Namespace) -> None:
    settings = Settings.load()
    everything = await pairs_of(settings, args.data)
    pairs = [p for p in everything if not p.misquoted]
    tune = [p for p in pairs if half(p.question_id) == 0]
    held_out = [p for p in pairs if half(p.question_id) == 1]
    weights, threshold = calibrate(tune)
    print(f"embedder={settings.embedder} chosen on the tuning half: {weights} threshold={threshold:.2f}")
    for name, only in (("lexical only", SupportWeights(1.0, 0.0)), ("semantic only", SupportWeights(0.0, 1.0))):
        signal_threshold = calibrate_threshold(tune, only)
        report(f"held-out, {name} (threshold {signal_threshold:.2f})", held_out, only, signal_threshold)
    report("tuning half", tune, weights, threshold)
    report("held-out half", held_out, weights, threshold)
    without = calibrate_threshold(tune, weights, numbers=False)
    report(f"held-out half without the numbers check (threshold {without:.2f})", held_out, weights, without, False)
    misquotes = [p for p in everything if p.misquoted]
    for name, numbers, cut in (("with", True, threshold), ("without", False, without)):
        caught = sum(score < cut for score, _ in scores(misquotes, weights, numbers))
        print(f"misquoted figures scored unsupported, {name} the numbers check: {caught}/{len(misquotes)}")


def calibrate_threshold(pairs: Sequence[Pair], weights: SupportWeights, numbers: bool = True) -> float:
    return max((t / 100 for t in range(5, 96)), key=lambda t: f1_at(scores(pairs, weights, numbers), t)[2])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--data", type=Path, required=True)
    arguments: Any = parser.parse_args()
    asyncio.run(main(arguments))
    sys.exit(0)
