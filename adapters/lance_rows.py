"""How chunks are laid out in LanceDB: the tables they go to, their rows, the filters over
them, and the way back."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Any

from botgpt.adapters.text_analysis import Analyzer
from botgpt.domain.model import Chunk, Document

RESULT_COLUMNS = ["chunk_id", "document_id", "ordinal", "start", "end", "text"]
CHUNK_TABLE_PREFIX = "chunks_"
DIGEST_LENGTH = 32


def table_name(user_id: str, embedder: str) -> str:
    """The table holding one user's chunks from one embedder.

    A digest, so the name is safe on any filesystem and in Lance whatever the user id holds.
    """
    digest = hashlib.sha256(f"{user_id}\0{embedder}".encode()).hexdigest()
    return CHUNK_TABLE_PREFIX + digest[:DIGEST_LENGTH]


def is_legacy_table(name: str) -> bool:
    """Whether ``name`` is a table of the earlier layout, all users in one per dimension
    (``chunks_384``): a short number where the tenant tables have a 32-digit digest."""
    suffix = name.removeprefix(CHUNK_TABLE_PREFIX)
    return name.startswith(CHUNK_TABLE_PREFIX) and suffix.isdigit() and len(suffix) != DIGEST_LENGTH


def quoted(value: str) -> str:
    """A SQL string literal (Lance filters are DataFusion SQL)."""
    return "'" + value.replace("'", "''") + "'"


def documents_filter(document_ids: Iterable[str]) -> str:
    """The filter that keeps the rows of these documents."""
    return f"document_id IN ({', '.join(map(quoted, sorted(document_ids)))})"


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
    """An Arrow table of the chunks: ids, scope columns, text, analysed terms and vectors.

    The user and embedder columns are what the table's name already says: kept for checks
    and for moving rows between layouts.
    """
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
