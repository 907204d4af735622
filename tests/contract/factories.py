"""Domain objects the contract suites store, made one way."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import attrs

from botgpt.domain.ids import new_id
from botgpt.domain.model import Document, DocumentStatus

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def new_document(user: str = "alice", minute: int = 0, **changes: Any) -> Document:
    """A fresh pending document of ``user``, created ``minute`` minutes after T0; ``changes``
    set any other field."""
    at = T0 + timedelta(minutes=minute)
    document = Document(
        id=new_id(),
        user_id=user,
        filename="notes.txt",
        content_type="text/plain",
        size_bytes=10,
        sha256=new_id(),
        status=DocumentStatus.PENDING,
        created_at=at,
        updated_at=at,
    )
    return attrs.evolve(document, **changes)
