"""The knobs of a conversation, as the domain sees them."""

from __future__ import annotations

import enum

import attrs

DEFAULT_SYSTEM_PROMPT = "You are a helpful, concise assistant."


class TitleStrategy(enum.StrEnum):
    """Where a new conversation's title comes from."""

    FIRST_MESSAGE = "first_message"
    MODEL = "model"


def _positive(_: object, attribute: attrs.Attribute[int], value: int) -> None:
    if value < 1:
        raise ValueError(f"{attribute.name} must be >= 1, got {value}")


@attrs.frozen
class ConversationPolicy:
    """How turns are built: prompt, answer size, history ceiling, limits, titles, how citations
    are verified, and whether turns that scroll out of the window are folded into a summary."""

    system_prompt: str = DEFAULT_SYSTEM_PROMPT
    max_answer_tokens: int = attrs.field(default=256, validator=_positive)
    temperature: float = attrs.field(default=0.2, validator=attrs.validators.ge(0.0))
    regenerate_temperature: float = attrs.field(default=0.8, validator=attrs.validators.ge(0.0))
    history_max_messages: int = attrs.field(default=50, validator=_positive)
    max_message_chars: int = attrs.field(default=16_000, validator=_positive)
    safety_margin: float = attrs.field(default=0.1, validator=[attrs.validators.ge(0.0), attrs.validators.lt(1.0)])
    title_strategy: TitleStrategy = TitleStrategy.FIRST_MESSAGE
    max_title_chars: int = attrs.field(default=200, validator=_positive)
    rag_top_k: int = attrs.field(default=5, validator=_positive)
    rag_context_tokens: int = attrs.field(default=700, validator=_positive)
    citation_min_support: float = attrs.field(
        default=0.5, validator=[attrs.validators.ge(0.0), attrs.validators.le(1.0)]
    )
    drop_unsupported_citations: bool = False
    summary_memory: bool = True
    summary_max_tokens: int = attrs.field(default=160, validator=_positive)
