"""Hand-written fakes for unit tests. Adapters are tested against real peers instead."""

from __future__ import annotations

import array
import asyncio
import hashlib
import math
import re
from collections.abc import AsyncIterator, Sequence

from botgpt.domain.errors import EmbedderError, ModelUnavailable
from botgpt.domain.model import ChatMessage, Completion, FinishReason, GenerationOptions, Vector
from botgpt.domain.stopping import cut_at_stops


class WordCounter:
    """Counts whitespace-separated words: predictable numbers for budget tests."""

    def count(self, text: str) -> int:
        return len(text.split())


class ScriptedChatModel:
    """A chat model that answers from a script, or raises the errors queued on it.

    It honours ``max_tokens`` (in words) and ``stop``; ``options`` records what it was asked.
    """

    def __init__(self, answers: Sequence[str] = (), context_window: int = 4096) -> None:
        self._answers = list(answers)
        self._errors: list[Exception] = []
        self._context_window = context_window
        self.prompts: list[list[ChatMessage]] = []
        self.options: list[GenerationOptions] = []
        self.loaded = True
        self.delay = 0.0
        self.fail_after_words: int | None = None
        self.streams_closed_early = 0

    @property
    def name(self) -> str:
        return "scripted"

    @property
    def context_window(self) -> int:
        return self._context_window

    def fail_next(self, error: Exception) -> None:
        self._errors.append(error)

    def answer_next(self, *answers: str) -> None:
        """Answer the next calls with these texts, before the rest of the script."""
        self._answers[:0] = answers

    @property
    def temperatures(self) -> list[float]:
        return [options.temperature for options in self.options]

    async def complete(self, messages: Sequence[ChatMessage], options: GenerationOptions) -> Completion:
        self.prompts.append(list(messages))
        self.options.append(options)
        if self._errors:
            raise self._errors.pop(0)
        text = cut_at_stops(self._answers.pop(0) if self._answers else f"answer {len(self.prompts)}", options.stop)
        words = text.split(" ")
        cut = len(words) > options.max_tokens
        return Completion(
            text=" ".join(words[: options.max_tokens]).strip(),
            model=self.name,
            prompt_tokens=sum(len(m.content.split()) for m in messages),
            completion_tokens=min(len(text.split()), options.max_tokens),
            finish_reason=FinishReason.LENGTH if cut else FinishReason.STOP,
        )

    async def stream(
        self, messages: Sequence[ChatMessage], options: GenerationOptions
    ) -> AsyncIterator[str | Completion]:
        """Word by word, pausing ``delay`` seconds between words; counts streams closed early."""
        completion = await self.complete(messages, options)
        words = completion.text.split(" ")
        finished = False
        try:
            for index, word in enumerate(words):
                if index == self.fail_after_words:
                    raise ModelUnavailable("the stream broke")
                await asyncio.sleep(self.delay)
                yield word if index == 0 else " " + word
            finished = True
            yield completion
        finally:
            self.streams_closed_early += 0 if finished else 1


class HashingEmbedder:
    """Bag-of-words hashed into a small vector: texts sharing words are similar."""

    def __init__(self, dimension: int = 64, name: str = "hashing") -> None:
        self._dimension = dimension
        self._name = name
        self._errors: list[EmbedderError] = []
        self.calls = 0
        self.loaded = True

    @property
    def name(self) -> str:
        return self._name

    @property
    def dimension(self) -> int:
        return self._dimension

    def fail_next(self, *errors: EmbedderError) -> None:
        self._errors.extend(errors)

    async def embed(self, texts: Sequence[str]) -> list[Vector]:
        self.calls += 1
        if self._errors:
            raise self._errors.pop(0)
        return [self._vector(text) for text in texts]

    def _vector(self, text: str) -> Vector:
        values = [0.0] * self._dimension
        for word in re.findall(r"\w+", text.lower()):
            values[int(hashlib.md5(word.encode()).hexdigest(), 16) % self._dimension] += 1.0
        norm = math.sqrt(sum(v * v for v in values)) or 1.0
        return array.array("f", [v / norm for v in values])


class KeywordSummarizer(ScriptedChatModel):
    """A summary writer that keeps, from the previous summary and the new messages, every
    sentence holding one of ``keywords``: predictable summaries for summary-memory tests."""

    def __init__(self, keywords: Sequence[str], context_window: int = 4096) -> None:
        super().__init__(context_window=context_window)
        self._keywords = [k.lower() for k in keywords]
        self.gate: asyncio.Event | None = None

    async def complete(self, messages: Sequence[ChatMessage], options: GenerationOptions) -> Completion:
        if self.gate is not None:
            await self.gate.wait()
        self.prompts.append(list(messages))
        body = messages[-1].content.split("Updated summary:")[0]
        sentences = re.split(r"(?<=[.!?])\s+|\n", body)
        kept = [s.strip() for s in sentences if any(k in s.lower() for k in self._keywords)]
        kept = [s.removeprefix("User: ") for s in dict.fromkeys(kept)]
        text = " ".join(kept) or "Nothing to keep."
        return Completion(text, "summarizer", sum(len(m.content.split()) for m in messages), len(text.split()))
