"""Properties every registered chunker must have, third-party plugins included."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings

from botgpt.entrypoints.settings import Settings
from botgpt.plugins.builtin.chunkers import SentenceChunker, build_tokens
from botgpt.plugins.hookspecs import PluginContext
from botgpt.plugins.manager import chunker_factories, plugin_manager
from botgpt.plugins.testkit import ANY_TEXT, ChunkerContract, check_chunker_on
from botgpt.ports.ai import Chunker

CONFIG = Settings.load(environ={}).as_dict()
FACTORIES = chunker_factories(plugin_manager())
CHUNKERS = {name: factory(PluginContext(CONFIG)) for name, factory in FACTORIES.items()}


def test_the_built_ins_are_registered() -> None:
    assert {"sentence", "tokens"} <= set(CHUNKERS)


@pytest.mark.parametrize("name", sorted(CHUNKERS))
@given(text=ANY_TEXT)
@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow], deadline=None)
def test_every_installed_chunker_keeps_the_contract(name: str, text: str) -> None:
    """The built-ins and any installed plugin's chunker, as configured by default."""
    check_chunker_on(CHUNKERS[name], text)


class TestSentenceChunker(ChunkerContract):
    def make_chunker(self) -> Chunker:
        return SentenceChunker(max_chars=120)


class TestTokenWindowChunker(ChunkerContract):
    def make_chunker(self) -> Chunker:
        return build_tokens(PluginContext({**CONFIG, "chunk_tokens": 30, "chunk_overlap_tokens": 10}))


def test_sentence_chunks_break_at_sentence_ends() -> None:
    text = "First sentence here. Second one follows! Third? " * 20
    spans = SentenceChunker(max_chars=120).chunk(text)
    assert len(spans) > 1
    assert all(span.text.endswith((".", "!", "?")) for span in spans)


def test_token_windows_overlap() -> None:
    chunker = build_tokens(PluginContext({**CONFIG, "chunk_tokens": 30, "chunk_overlap_tokens": 10}))
    text = " ".join(f"Sentence number {i} is here." for i in range(40))
    spans = chunker.chunk(text)
    assert len(spans) > 2
    assert all(b.start < a.end for a, b in itertools.pairwise(spans))
