"""The contract-test kit: the checks every chunker and chat model must pass, built-in or not.

A plugin's tests subclass ``ChunkerContract`` or ``ChatModelContract`` and say how to build
the object; pytest then runs every check. botgpt's own chunkers and chat adapters run the
same checks (``tests/unit/test_chunkers.py``, ``tests/contract/test_chat_model.py``).
Needs the ``test`` extra (pytest and hypothesis): ``pip install "botgpt[test]"``.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from botgpt.domain.chunking import stream_chunks
from botgpt.domain.model import ChatMessage, ChunkSpan, Completion, FinishReason, GenerationOptions, Role
from botgpt.ports.ai import Chunker
from botgpt.ports.chat import ChatModel

_words = st.sampled_from(["alpha", "beta", "gamma", "delta", "x", "Dr.", "end.", "why?", "wow!", "3.14", "é", "数据"])
_separators = st.sampled_from([" ", " ", " ", "\n", "\n\n", ". ", "? ", "  ", "\t"])
PROSE = st.lists(st.tuples(_words, _separators), max_size=400).map(lambda parts: "".join(w + s for w, s in parts))
ANY_TEXT = st.one_of(PROSE, st.text(max_size=600))
_PROPERTY = settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow], deadline=None)

PROMPT = (ChatMessage(Role.SYSTEM, "Be brief."), ChatMessage(Role.USER, "Name a colour please"))
OPTIONS = GenerationOptions(max_tokens=32)


def check_spans_slice_back(text: str, spans: Sequence[ChunkSpan]) -> None:
    """Every span's offsets cut its own text out of the document, and no span is blank."""
    for span in spans:
        assert text[span.start : span.end] == span.text, f"span {span.start}:{span.end} does not match its text"
        assert span.text.strip(), "a span holds only whitespace"


def check_covers_in_order(text: str, spans: Sequence[ChunkSpan]) -> None:
    """Spans start in order, end in order, and together cover every non-space character."""
    starts = [span.start for span in spans]
    assert starts == sorted(starts) and len(set(starts)) == len(starts), "spans do not start in order"
    assert all(a.end <= b.end for a, b in itertools.pairwise(spans)), "spans do not end in order"
    covered = {i for span in spans for i in range(span.start, span.end)}
    lost = [i for i, character in enumerate(text) if not character.isspace() and i not in covered]
    assert not lost, f"characters at {lost[:5]} are in no span"


def check_sizes(chunker: Chunker, spans: Sequence[ChunkSpan]) -> None:
    """No span is longer than the chunker's ``max_chars``."""
    assert all(len(span.text) <= chunker.max_chars for span in spans), "a span exceeds max_chars"


def check_chunker_on(chunker: Chunker, text: str) -> None:
    """Every chunker property on one text, chunked whole and streamed in windows."""
    spans = chunker.chunk(text)
    check_spans_slice_back(text, spans)
    check_covers_in_order(text, spans)
    check_sizes(chunker, spans)
    assert chunker.chunk(text) == spans, "chunking the same text twice gave different spans"
    segments = [text[i : i + 37] for i in range(0, len(text), 37)]
    streamed = list(stream_chunks(segments, chunker, window_chars=max(64, chunker.max_chars // 2)))
    check_spans_slice_back(text, streamed)
    check_sizes(chunker, streamed)
    assert all(c.isspace() or any(s.start <= i < s.end for s in streamed) for i, c in enumerate(text))


class ChunkerContract:
    """Subclass it in a test module and implement ``make_chunker``; pytest runs the checks."""

    def make_chunker(self) -> Chunker:
        raise NotImplementedError("return the chunker under test")

    def test_it_has_a_name_and_a_positive_size(self) -> None:
        chunker = self.make_chunker()
        assert chunker.name and chunker.max_chars > 0

    def test_empty_and_blank_text_give_no_spans(self) -> None:
        assert self.make_chunker().chunk("") == []
        assert self.make_chunker().chunk(" \n\n\t ") == []

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # Each subclass gets its own property test: hypothesis keeps one example database per
        # test function, and one function shared by several classes would mix theirs.
        super().__init_subclass__(**kwargs)

        @_PROPERTY
        @given(text=ANY_TEXT)
        def test_every_property_holds_on_any_text(self: ChunkerContract, text: str) -> None:
            check_chunker_on(self.make_chunker(), text)

        test_every_property_holds_on_any_text.__qualname__ = f"{cls.__qualname__}.test_every_property_holds_on_any_text"
        cls.test_every_property_holds_on_any_text = test_every_property_holds_on_any_text  # type: ignore[attr-defined]


async def check_identity(model: ChatModel) -> None:
    """A name to store on messages, and a positive context window."""
    assert model.name, "the model has no name"
    assert model.context_window > 0, "the context window must be positive"


async def check_complete(model: ChatModel, expected: str | None = None) -> None:
    """``complete`` answers with text and counts tokens both ways."""
    completion = await model.complete(PROMPT, OPTIONS)
    assert completion.text.strip(), "the answer is empty"
    if expected is not None:
        assert completion.text == expected
    assert completion.prompt_tokens > 0 and completion.completion_tokens > 0, "token usage is missing"


async def check_stream(model: ChatModel, expected: str | None = None) -> None:
    """``stream`` yields text, then exactly one ``Completion`` holding that same text, last."""
    events = [event async for event in model.stream(PROMPT, OPTIONS)]
    assert events and isinstance(events[-1], Completion), "the stream must end with a Completion"
    pieces = events[:-1]
    assert pieces and all(isinstance(piece, str) for piece in pieces), "text must come before the Completion"
    completion = events[-1]
    assert "".join(str(piece) for piece in pieces).strip() == completion.text.strip()
    if expected is not None:
        assert completion.text == expected


async def check_early_close(model: ChatModel, expected: str | None = None) -> None:
    """Closing a stream after its first piece leaves the model ready for the next call."""
    stream = model.stream(PROMPT, OPTIONS)
    assert isinstance(await anext(stream), str)
    await stream.aclose()  # type: ignore[attr-defined]
    await check_complete(model, expected)


async def check_stop(model: ChatModel, expected: str | None = None) -> None:
    """An answer ends before its stop sequence (a word from the middle of the plain answer),
    streamed and whole, and finishes with ``stop``. Needs a model that answers
    deterministically at temperature 0."""
    answer = expected or (await model.complete(PROMPT, OPTIONS)).text
    words = answer.split(" ")
    assert len(words) >= 3, f"the answer {answer!r} is too short to cut"
    stop = " " + words[len(words) // 2]
    options = GenerationOptions(max_tokens=32, stop=(stop, "never-said-xyz"))
    whole = await model.complete(PROMPT, options)
    assert whole.text == answer[: answer.index(stop)].strip(), f"{whole.text!r} was not cut at {stop!r}"
    assert whole.finish_reason is FinishReason.STOP
    events = [event async for event in model.stream(PROMPT, options)]
    assert "".join(e for e in events if isinstance(e, str)).strip() == whole.text
    assert isinstance(events[-1], Completion) and events[-1].text == whole.text


async def check_length(model: ChatModel, expected: str | None = None) -> None:
    """An answer cut at ``max_tokens`` finishes with ``length``, streamed and whole."""
    options = GenerationOptions(max_tokens=2)
    whole = await model.complete(PROMPT, options)
    assert whole.finish_reason is FinishReason.LENGTH, "an answer cut at max_tokens must finish with length"
    assert 0 < whole.completion_tokens <= 2 and len(whole.text.split()) <= 2
    if expected is not None:
        assert expected.startswith(whole.text)
    events = [event async for event in model.stream(PROMPT, options)]
    assert isinstance(events[-1], Completion) and events[-1].finish_reason is FinishReason.LENGTH


CHAT_CHECKS: tuple[Callable[..., Awaitable[None]], ...] = (check_complete, check_stream, check_early_close, check_stop)
# A model that can tell where its answer was cut (not ``SimpleChatModel``) passes these too.
OPTION_CHECKS: tuple[Callable[..., Awaitable[None]], ...] = (check_length,)


class ChatModelContract:
    """Subclass it in a test module and implement ``make_model``; pytest runs the checks.

    Set ``expected`` when the model's answer to ``PROMPT`` is known (a fake server); leave it
    ``None`` for a real model. Each check runs in its own event loop, with ``load()`` and
    ``close()`` awaited around it when the model has them, as the host does.
    """

    expected: str | None = None

    def make_model(self) -> ChatModel:
        raise NotImplementedError("return the chat model under test")

    def test_it_has_a_name_and_a_context_window(self) -> None:
        self._run(check_identity)

    def test_complete_answers_with_usage(self) -> None:
        self._run(check_complete, self.expected)

    def test_stream_yields_text_then_one_completion(self) -> None:
        self._run(check_stream, self.expected)

    def test_a_stream_closed_early_leaves_the_model_ready(self) -> None:
        self._run(check_early_close, self.expected)

    def test_a_stop_sequence_cuts_the_answer(self) -> None:
        self._run(check_stop, self.expected)

    def _run(self, check: Callable[..., Awaitable[None]], *args: Any) -> None:
        async def run() -> None:
            model = self.make_model()
            await _maybe(model, "load")
            try:
                await check(model, *args)
            finally:
                await _maybe(model, "close")

        asyncio.run(run())


async def _maybe(model: object, method: str) -> None:
    call = getattr(model, method, None)
    if call is not None:
        await call()
