"""The example plugin's registrations: botgpt finds them through the ``botgpt`` entry point."""

from __future__ import annotations

import os

from botgpt.plugins.hookspecs import PluginContext, RegisterChatModel, RegisterChunker, hookimpl
from botgpt_example.openai_compatible import OpenAICompatibleChat
from botgpt_example.paragraphs import ParagraphChunker


def build_paragraphs(context: PluginContext) -> ParagraphChunker:
    return ParagraphChunker(max_chars=int(context.config.get("chunk_max_chars", 2000)))


def build_openai_compatible(context: PluginContext) -> OpenAICompatibleChat:
    # A plugin's own settings come from its own environment variables.
    base_url = os.environ.get("EXAMPLE_BASE_URL", "")
    if not base_url:
        raise ValueError("the example_openai provider needs EXAMPLE_BASE_URL")
    return OpenAICompatibleChat(
        base_url, os.environ.get("EXAMPLE_MODEL", "default"), os.environ.get("EXAMPLE_API_KEY", "")
    )


@hookimpl
def register_chunkers(register: RegisterChunker) -> None:
    register("paragraphs", build_paragraphs)


@hookimpl
def register_chat_models(register: RegisterChatModel) -> None:
    register("example_openai", build_openai_compatible)
