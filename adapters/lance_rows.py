"""How chunks are laid out in LanceDB: their rows, the filters over them, and the way back."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from botgpt.adapters.text_analysis import Analyzer
from botgpt.domain.model import Chunk, Document, SearchScope

RESULT_COLUMNS = ["chunk_id", "document_id", "ordinal", "start", "end", "text"]


def quoted(value: str) -> str:
    """A SQL string literal (Lance filters are DataFusion SQL)."""
    return "'" + value.replace("'", "''") + "'"


def scope_filter(scope: SearchScope) -> str:
    """The filter that confines a search to the scope."""
    clauses = [f"user_id = {quoted(scope.user_id)}", f"embedder = {quoted(scope.embedder)}"]
    if scope.document_ids is not None:
        clauses.append(f"document_id IN ({', '.join(map(quoted, sorted(scope.document_ids)))})")
    return " AND ".join(clauses)


def chunk_from_row(row: dict[str, Any]) -> Chunk:
    """The chunk a result row holds (without its vector)."""
    return Chunk(
        id=row["chunk_id"],
        document_id=row["document_id"],
        ordinal=row["ordinal"],
        start=row["start"],
        end=row["end"],
        text=row["text"],
    )


def chunk_rows(document: Document, chunks: Sequence[Chunk], analyzer: Analyzer) -> Any:
    """An Arrow table of the chunks: ids, scope columns, text, analysed terms and vectors."""
    import numpy as np
    import pyarrow as pa

    dimension = len(chunks[0].vector)
    values = pa.array(np.frombuffer(b"".join(chunk.vector.tobytes() for chunk in chunks), dtype=np.float32))
    return pa.table(
        {
            "chunk_id": [chunk.id for chunk in chunks],
            "document_id": [document.id] * len(chunks),
            "user_id": [document.user_id] * len(chunks),
            "embedder": [document.embedder or ""] * len(chunks),
            "ordinal": pa.array([chunk.ordinal for chunk in chunks], pa.int32()),
            "start": pa.array([chunk.start for chunk in chunks], pa.int32()),
            "end": pa.array([chunk.end for chunk in chunks], pa.int32()),
            "text": [chunk.text for chunk in chunks],
            "terms": [" ".join(analyzer.terms(chunk.text)) for chunk in chunks],
            "vector": pa.FixedSizeListArray.from_arrays(values, dimension),
        }
    )
