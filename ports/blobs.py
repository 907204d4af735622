"""Blob storage port: where uploaded files live."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol


class BlobStorage(Protocol):
    """Stores opaque files by key. Writes stream; nothing is held whole in memory."""

    async def write(self, key: str, chunks: AsyncIterator[bytes]) -> int:
        """Store the stream under ``key`` (atomically: all or nothing); returns its size."""
        ...

    async def local_path(self, key: str) -> str:
        """A local file holding ``key``'s bytes (parsers need to seek); remote backends
        materialise one."""
        ...

    async def delete(self, key: str) -> None:
        """Remove ``key``; absent keys are fine."""
        ...
