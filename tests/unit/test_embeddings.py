"""EmbeddingService: inputs embedded whole, in order, or refused by name."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from botgpt.adapters.tiktoken_tokens import TiktokenCounter
from botgpt.domain.embeddings import MAX_INPUTS, EmbeddingService
from botgpt.domain.errors import InputTooLong, InvalidRequest
from botgpt.domain.model import Vector
from tests.fakes import HashingEmbedder


class WindowedHashing(HashingEmbedder):
    """A hashing embedder that, like BERT models, reads a window of its own tokens: one per
    word, plus two special ones."""

    max_input_tokens = 5

    def __init__(self) -> None:
        super().__init__()
        self.embedded: list[list[str]] = []

    async def input_tokens(self, texts: Sequence[str]) -> list[int]:
        return [len(text.split()) + 2 for text in texts]

    async def embed(self, texts: Sequence[str]) -> list[Vector]:
        self.embedded.append(list(texts))
        return await super().embed(texts)


TOKENS = TiktokenCounter()


async def test_past_the_window_a_text_is_cut_by_the_embedder_or_refused_on_request() -> None:
    embedder = WindowedHashing()
    service = EmbeddingService(embedder, TOKENS)
    embedded = await service.embed(["one two three"])
    assert [list(v) for v in embedded.vectors] == [list(v) for v in await HashingEmbedder().embed(["one two three"])]
    await service.embed(["ok", "one two three four"])  # by default the embedder reads up to its window
    embedder.embedded.clear()
    with pytest.raises(InputTooLong) as raised:
        await service.embed(["ok", "one two three four"], truncate=False)
    assert "input[1] is 6" in str(raised.value) and "at most 5" in str(raised.value)
    assert raised.value.details() == {"param": "input"}
    assert embedder.embedded == []  # the refused request never reached the model


async def test_without_a_window_the_limit_is_8192_of_botgpts_tokens() -> None:
    service = EmbeddingService(HashingEmbedder(), TOKENS)
    await service.embed(["word" + " word" * 8191])  # 8192 tokens
    with pytest.raises(InputTooLong, match="8193 tokens"):
        await service.embed(["word" + " word" * 8192])


async def test_repeated_texts_are_embedded_once_and_answered_at_each_place() -> None:
    embedder = WindowedHashing()
    embedded = await EmbeddingService(embedder, TOKENS).embed(["a b", "c", "a b"])
    assert embedder.embedded == [["a b", "c"]]
    assert [list(v) for v in embedded.vectors] == [list(v) for v in await HashingEmbedder().embed(["a b", "c", "a b"])]
    assert embedded.prompt_tokens == TOKENS.count("a b") * 2 + TOKENS.count("c")


async def test_token_ids_are_decoded_and_counted_as_sent() -> None:
    ids = [[15339, 1917], [15339]]  # "hello world", "hello" in cl100k_base
    embedder = WindowedHashing()
    embedded = await EmbeddingService(embedder, TOKENS).embed(ids)
    assert embedder.embedded == [["hello world", "hello"]]
    assert embedded.prompt_tokens == 3


@pytest.mark.parametrize(
    ("inputs", "says"),
    [([], "at least one"), (["x"] * (MAX_INPUTS + 1), "at most 2048"), (["a", ""], "input[1] is empty")],
)
async def test_empty_or_too_many_inputs_are_refused(inputs: list[str], says: str) -> None:
    with pytest.raises(InvalidRequest, match=says.replace("[", r"\[").replace("]", r"\]")):
        await EmbeddingService(HashingEmbedder(), TOKENS).embed(inputs)


async def test_an_id_the_encoding_lacks_is_refused_by_position() -> None:
    with pytest.raises(InvalidRequest, match=r"input\[1\] holds a token id"):
        await EmbeddingService(HashingEmbedder(), TOKENS).embed([[15339], [100256]])
