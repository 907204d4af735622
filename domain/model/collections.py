"""Knowledge bases: named collections of a user's documents."""

from __future__ import annotations

from datetime import datetime

import attrs

# A document attribute's value, as OpenAI's vector-store files carry them.
AttributeValue = str | int | float | bool


@attrs.frozen
class Collection:
    """A named set of one user's documents; a document may belong to several."""

    id: str
    user_id: str
    name: str
    created_at: datetime
    updated_at: datetime
    description: str = ""


@attrs.frozen
class DocumentCounts:
    """How many of a collection's documents are in each ingestion state."""

    pending: int = 0
    processing: int = 0
    ready: int = 0
    failed: int = 0

    @property
    def total(self) -> int:
        return self.pending + self.processing + self.ready + self.failed
