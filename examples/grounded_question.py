"""botgpt embedded in a script: upload a document, wait for it, ask a grounded question.

    python examples/grounded_question.py [DATA_DIR]

It uses the configured settings (``BOTGPT_*``, ``$BOTGPT_CONFIG``), with its data in
DATA_DIR (a temporary directory by default). Nothing here touches the DI container: the
``Core`` that ``open_core`` yields carries every use case.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from collections.abc import AsyncIterator

from botgpt.domain.model import DocumentStatus, Mode
from botgpt.entrypoints.core import open_core
from botgpt.entrypoints.settings import Settings

USER = "alice"
TEXT = (
    "The Panthers defense gave up just 308 points, ranking sixth in the league.\n\n"
    "Kawann Short led the team in sacks with 11, while Luke Kuechly led in tackles."
)


async def chunks(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def main(data_dir: str) -> None:
    async with open_core(Settings.load(data_dir=data_dir)) as core:
        upload = await core.documents.upload(USER, "season.txt", chunks(TEXT.encode()))
        document = upload.document
        while document.status not in (DocumentStatus.READY, DocumentStatus.FAILED):  # ingested in the background
            await asyncio.sleep(0.2)
            document = await core.documents.get(USER, document.id)
        print(f"{document.filename}: {document.status.value}")

        turn = await core.conversations.start(
            USER, "How many points did the Panthers defense give up?", Mode.RAG, [document.id]
        )
        print(f"answer: {turn.assistant_message.content}")
        for number, citation in enumerate(turn.assistant_message.citations, start=1):
            print(f"[{number}] {citation.filename} {citation.start}-{citation.end}: {citation.snippet}")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="botgpt-example-")))
