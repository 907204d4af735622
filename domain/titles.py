"""Conversation titles."""

from __future__ import annotations

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
