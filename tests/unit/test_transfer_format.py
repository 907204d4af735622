"""The export file's Markdown rendering and its reading back."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from botgpt.domain.errors import InvalidRequest
from botgpt.domain.model import Citation, Conversation, ConversationTree, Message, Mode, Role
from botgpt.entrypoints.transfer_format import markdown, parse_export, tree_from

T0 = datetime(2026, 5, 1, 8, 30, tzinfo=UTC)


def cite(number: int, filename: str) -> Citation:
    return Citation("d" * 32, filename, "c" * 32, 10, 20, 0.5, f"snippet of {filename}", number)


def rag_tree(answer: str, citations: tuple[Citation, ...]) -> ConversationTree:
    question = Message("u" * 32, "x", Role.USER, "Where is it?", T0, 3)
    reply = Message("a" * 32, "x", Role.ASSISTANT, answer, T0, 5, "m", citations=citations, parent_id=question.id)
    conversation = Conversation("x", "alice", "Lights", Mode.RAG, T0, T0, active_leaf_id=reply.id)
    return ConversationTree(conversation, (question, reply))


def test_cited_markers_become_footnotes() -> None:
    text = markdown(rag_tree("North [2], then south [1]. Not [7].", (cite(2, "north.txt"), cite(1, "south.txt"))))
    assert "North [^1], then south [^2]. Not [7]." in text
    assert "[^1]: north.txt, characters 10–20: “snippet of north.txt”" in text
    assert "[^2]: south.txt" in text
    assert "Sources:" not in text


def test_sources_an_answer_does_not_mark_are_listed_under_it() -> None:
    text = markdown(rag_tree("It is by the sea.", (cite(1, "sea.txt"),)))
    assert "It is by the sea.\n\nSources: [^1]" in text
    assert text.startswith("# Lights\n")


@pytest.mark.parametrize("data", [b"[]", b"{", b'{"format": "botgpt.conversation"}', "\u00ff".encode("latin-1")])
def test_malformed_files_are_invalid_requests(data: bytes) -> None:
    with pytest.raises(InvalidRequest):
        tree_from(parse_export(data))
