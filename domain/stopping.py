"""Stop sequences: an answer ends before the first of them, which is never part of it.

Models that cannot stop by themselves (or might not) pass their text through a
``StopScanner``; ``stop_at`` does it for any stream of text pieces ending in a ``Completion``.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence

import attrs

from botgpt.domain.model import Completion, FinishReason


def _held_back(text: str, stops: Sequence[str]) -> int:
    """How many trailing characters of ``text`` could begin a stop sequence."""
    longest = 0
    for stop in stops:
        for size in range(min(len(stop) - 1, len(text)), longest, -1):
            if text.endswith(stop[:size]):
                longest = size
                break
    return longest


@attrs.define
class StopScanner:
    """Cuts streamed text at the first stop sequence.

    A stop sequence may arrive split across pieces, so text that could be its beginning is
    held back until a later piece (or ``flush``) shows that it is not.
    """

    stops: tuple[str, ...]
    stopped: bool = False
    _held: str = ""

    def feed(self, piece: str) -> str:
        """The part of ``piece`` (with what was held back) that is surely answer text."""
        if self.stopped:
            return ""
        text = self._held + piece
        found = [index for stop in self.stops if (index := text.find(stop)) >= 0]
        if found:
            self.stopped, self._held = True, ""
            return text[: min(found)]
        keep = _held_back(text, self.stops)
        self._held = text[len(text) - keep :]
        return text[: len(text) - keep]

    def flush(self) -> str:
        """The held-back text, once the answer has ended without reaching a stop sequence."""
        held, self._held = self._held, ""
        return held


def cut_at_stops(text: str, stops: Sequence[str]) -> str:
    """A whole answer up to the first of ``stops``."""
    scanner = StopScanner(tuple(stops))
    return scanner.feed(text) + scanner.flush()


async def stop_at(events: AsyncIterator[str | Completion], stops: Sequence[str]) -> AsyncIterator[str | Completion]:
    """``events`` (text pieces, then the ``Completion``) cut at the first of ``stops``.

    The source is read to its end even after a stop, so its ``Completion`` still reports the
    usage; the text past the stop is dropped, and the completion's text is the cut answer.
    """
    async with contextlib.aclosing(events) as source:  # type: ignore[type-var]
        if not stops:
            async for event in source:
                yield event
            return
        scanner, kept = StopScanner(tuple(stops)), []
        async for event in source:
            if not isinstance(event, Completion):
                if piece := scanner.feed(event):
                    kept.append(piece)
                    yield piece
                continue
            if tail := scanner.flush():
                kept.append(tail)
                yield tail
            if scanner.stopped:
                event = attrs.evolve(event, text="".join(kept).strip(), finish_reason=FinishReason.STOP)
            yield event
