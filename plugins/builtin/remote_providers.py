"""Built-in remote providers: ``groq`` chat, ``gemini`` chat and ``gemini`` embeddings.

They register through the same hooks as the local ones; a third party adds a provider
the same way.
"""

from __future__ import annotations

from botgpt.adapters.gemini import GeminiChatModel, GeminiEmbedder, make_client
from botgpt.adapters.groq_chat import GroqChatModel
from botgpt.adapters.resilience import RetryPolicy
from botgpt.plugins.hookspecs import Config, PluginContext, RegisterChatModel, RegisterEmbedder, hookimpl
from botgpt.ports.telemetry import NO_METRICS, Metrics


def retry_policy(config: Config, metrics: Metrics = NO_METRICS, provider: str = "") -> RetryPolicy:
    """The shared resilience settings of remote providers; retries count under ``provider``."""
    return RetryPolicy(
        attempts=int(config.get("provider_attempts", 3)),
        base_seconds=float(config.get("provider_backoff_seconds", 0.5)),
        timeout_seconds=float(config.get("provider_timeout_seconds", 60)),
        on_retry=lambda: metrics.provider_retried(provider),
    )


def _required(config: Config, key: str, variable: str) -> str:
    value = str(config.get(key) or "")
    if not value:
        raise ValueError(f"this provider needs {variable}")
    return value


def build_groq(context: PluginContext) -> GroqChatModel:
    config = context.config
    return GroqChatModel(
        api_key=_required(config, "groq_api_key", "GROQ_API_KEY"),
        model=str(config.get("groq_model", "llama-3.3-70b-versatile")),
        context_window=int(config.get("groq_context_window", 32768)),
        policy=retry_policy(config, context.metrics, "groq"),
    )


def _gemini_client(config: Config) -> object:
    return make_client(
        _required(config, "gemini_api_key", "GEMINI_API_KEY"),
        str(config.get("gemini_base_url") or "") or None,
        float(config.get("provider_timeout_seconds", 60)),
    )


def build_gemini_chat(context: PluginContext) -> GeminiChatModel:
    config = context.config
    return GeminiChatModel(
        _gemini_client(config),
        model=str(config.get("gemini_chat_model", "gemini-2.0-flash")),
        context_window=int(config.get("gemini_context_window", 32768)),
        policy=retry_policy(config, context.metrics, "gemini"),
    )


def build_gemini_embedder(context: PluginContext) -> GeminiEmbedder:
    config = context.config
    return GeminiEmbedder(
        _gemini_client(config),
        model=str(config.get("gemini_embed_model", "text-embedding-004")),
        dimension=int(config.get("gemini_embed_dimension", 768)),
        policy=retry_policy(config, context.metrics, "gemini"),
    )


@hookimpl
def register_chat_models(register: RegisterChatModel) -> None:
    register("groq", build_groq)
    register("gemini", build_gemini_chat)


@hookimpl
def register_embedders(register: RegisterEmbedder) -> None:
    register("gemini", build_gemini_embedder)
