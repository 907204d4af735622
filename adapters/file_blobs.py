"""Blob storage on the local disk, under the data directory."""

from __future__ import annotations

import asyncio
import os
import re
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

_SAFE_KEY = re.compile(r"[0-9a-f]{32}")


class FileBlobStorage:
    """One file per key under ``root``, fanned out by the key's first two characters.

    Writes go to a temporary file in the same directory and are renamed into place, so a
    reader never sees a partial file and a failed upload leaves nothing behind.
    """

    def __init__(self, root: Path) -> None:
        self._root = root

    def _path(self, key: str) -> Path:
        if not _SAFE_KEY.fullmatch(key):
            raise ValueError("blob keys are 32 lowercase hex characters")
        return self._root / key[:2] / key

    async def write(self, key: str, chunks: AsyncIterator[bytes]) -> int:
        target = self._path(key)
        await asyncio.to_thread(target.parent.mkdir, parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        size = 0
        try:
            with os.fdopen(descriptor, "wb") as handle:
                async for block in chunks:
                    await asyncio.to_thread(handle.write, block)
                    size += len(block)
            await asyncio.to_thread(os.replace, temporary, target)
        except BaseException:
            await asyncio.to_thread(Path(temporary).unlink, missing_ok=True)
            raise
        return size

    async def local_path(self, key: str) -> str:
        path = self._path(key)
        if not path.exists():
            raise FileNotFoundError(key)
        return str(path)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._path(key).unlink, missing_ok=True)
