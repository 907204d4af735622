"""Conversation titles."""

from __future__ import annotations

import logging

from botgpt.domain.errors import ChatModelError
from botgpt.domain.model import ChatMessage, GenerationOptions, Role
from botgpt.ports.chat import ChatModel

log = logging.getLogger(__name__)

TITLE_MAX_CHARS = 60
UNTITLED = "New conversation"


def title_from_message(text: str, max_chars: int = TITLE_MAX_CHARS) -> str:
    """A title from the first message: its first line, whitespace folded, cut at a word."""
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    folded = " ".join(first_line.split())
    if not folded:
        return UNTITLED
    if len(folded) <= max_chars:
        return folded
    cut = folded[: max_chars - 1]
    if " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,.;:-") + "…"


def clean_model_title(raw: str, max_chars: int = TITLE_MAX_CHARS) -> str | None:
    """A model-written title, stripped of quotes and prefixes; None if nothing usable."""
    line = next((part for part in raw.splitlines() if part.strip()), "")
    line = line.strip().removeprefix("Title:").strip().strip("\"'*#").strip()
    if not line:
        return None
    return title_from_message(line, max_chars)


TITLE_PROMPT = (
    "Write a title of at most six words for a chat that starts with the user's message. Reply with the title only."
)


async def model_title(chat: ChatModel, text: str, fallback: str) -> str:
    """A title written by ``chat`` for a conversation starting with ``text``; ``fallback`` if
    the model fails or writes nothing usable (a title is a nicety, never a reason to fail)."""
    prompt = [ChatMessage(Role.SYSTEM, TITLE_PROMPT), ChatMessage(Role.USER, text[:2000])]
    try:
        completion = await chat.complete(prompt, GenerationOptions(max_tokens=16))
    except ChatModelError:
        log.warning("the model could not write a title; using the first message")
        return fallback
    return clean_model_title(completion.text) or fallback
