"""Okapi BM25 over a set of chunks in memory, for the ``memory`` index."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from botgpt.adapters.text_analysis import Analyzer
from botgpt.domain.model import Chunk


def top_indices(scores: npt.NDArray[Any], k: int) -> npt.NDArray[np.intp]:
    """Indices of the ``k`` largest scores, best first (ties: lower index first)."""
    k = min(k, len(scores))
    if k == 0:
        return np.empty(0, dtype=np.intp)
    part = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
    return part[np.lexsort((part, -scores[part]))]


@attrs.frozen
class Bm25Index:
    """Postings of one chunk set; statistics (document frequencies, lengths) are the set's."""

    chunks: list[Chunk]
    postings: dict[str, tuple[npt.NDArray[np.int32], npt.NDArray[np.float32]]]
    lengths: npt.NDArray[np.float32]

    @classmethod
    def build(cls, chunks: list[Chunk], analyzer: Analyzer) -> Bm25Index:
        rows: dict[str, tuple[list[int], list[float]]] = {}
        lengths = np.zeros(len(chunks), dtype=np.float32)
        for position, chunk in enumerate(chunks):
            terms = analyzer.terms(chunk.text)
            lengths[position] = len(terms)
            for term, count in Counter(terms).items():
                ids, tfs = rows.setdefault(term, ([], []))
                ids.append(position)
                tfs.append(count)
        postings = {
            term: (np.array(ids, dtype=np.int32), np.array(tfs, dtype=np.float32)) for term, (ids, tfs) in rows.items()
        }
        return cls(chunks, postings, lengths)

    def scores(self, terms: Sequence[str], k1: float, b: float) -> npt.NDArray[np.float32]:
        total = len(self.chunks)
        average = float(self.lengths.mean()) if total else 0.0
        norm = k1 * (1 - b + b * self.lengths / max(average, 1e-9))
        scores = np.zeros(total, dtype=np.float32)
        for term in terms:
            if term not in self.postings:
                continue
            ids, tfs = self.postings[term]
            idf = math.log(1 + (total - len(ids) + 0.5) / (len(ids) + 0.5))
            scores[ids] += idf * tfs * (k1 + 1) / (tfs + norm[ids])
        return scores
