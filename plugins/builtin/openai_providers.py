"""Built-in ``openai`` chat provider and ``openai`` embedder: any server that speaks OpenAI's
API (OpenAI itself, vLLM, Ollama, llama.cpp's server, another botgpt), chosen by its base URL.

Settings (the README's table): ``openai_base_url``, ``openai_api_key`` (also ``OPENAI_API_KEY``),
``openai_chat_model``, ``openai_context_window``, ``openai_extra_headers`` (a JSON object),
``openai_embed_base_url``, ``openai_embed_model``, ``openai_embed_dimension``,
``openai_embed_batch_size``; retries and timeouts are the shared ``provider_*`` settings.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from botgpt.adapters.openai_chat import OpenAIChatModel, make_client
from botgpt.adapters.openai_embedder import OpenAIEmbedder
from botgpt.adapters.tiktoken_tokens import DEFAULT_ENCODING, TiktokenCounter
from botgpt.plugins.builtin.remote_providers import retry_policy
from botgpt.plugins.hookspecs import Config, PluginContext, RegisterChatModel, RegisterEmbedder, hookimpl

OPENAI_URL = "https://api.openai.com/v1"


def extra_headers(config: Config) -> dict[str, str]:
    """``openai_extra_headers``: a JSON object of header names to string values, or empty."""
    text = str(config.get("openai_extra_headers") or "").strip()
    if not text:
        return {}
    try:
        headers = json.loads(text)
    except ValueError as error:
        raise ValueError(f"openai_extra_headers must be a JSON object: {error}") from error
    if not isinstance(headers, dict) or not all(
        isinstance(name, str) and name and isinstance(value, str) for name, value in headers.items()
    ):
        raise ValueError('openai_extra_headers must be a JSON object of strings, e.g. {"X-Team": "search"}')
    return headers


def _base_url(config: Config, key: str) -> str:
    url = str(config.get(key) or "").strip() or OPENAI_URL
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{key} must be an http(s) URL such as http://localhost:8000/v1; got {url!r}")
    return url


def _client(config: Config, base_url: str) -> object:
    key = str(config.get("openai_api_key") or "")
    if not key and urlsplit(base_url).hostname == "api.openai.com":
        raise ValueError("the openai provider needs OPENAI_API_KEY (or BOTGPT_OPENAI_API_KEY) for api.openai.com")
    return make_client(base_url, key, float(config.get("provider_timeout_seconds", 60)), extra_headers(config))


def build_openai_chat(context: PluginContext) -> OpenAIChatModel:
    """The ``openai`` chat provider at ``openai_base_url``."""
    config = context.config
    return OpenAIChatModel(
        _client(config, _base_url(config, "openai_base_url")),
        model=str(config.get("openai_chat_model") or "gpt-4o-mini"),
        context_window=int(config.get("openai_context_window", 8192)),
        policy=retry_policy(config, context.metrics, "openai"),
        # The host's own counter, for servers that report no usage.
        tokens=TiktokenCounter(str(config.get("token_encoding") or DEFAULT_ENCODING)),
    )


def build_openai_embedder(context: PluginContext) -> OpenAIEmbedder:
    """The ``openai`` embedder at ``openai_embed_base_url`` (empty: ``openai_base_url``)."""
    config = context.config
    key = "openai_embed_base_url" if str(config.get("openai_embed_base_url") or "").strip() else "openai_base_url"
    return OpenAIEmbedder(
        _client(config, _base_url(config, key)),
        model=str(config.get("openai_embed_model") or "text-embedding-3-small"),
        dimension=int(config.get("openai_embed_dimension", 1536)),
        policy=retry_policy(config, context.metrics, "openai"),
        batch_size=int(config.get("openai_embed_batch_size", 64)),
    )


@hookimpl
def register_chat_models(register: RegisterChatModel) -> None:
    register("openai", build_openai_chat)


@hookimpl
def register_embedders(register: RegisterEmbedder) -> None:
    register("openai", build_openai_embedder)
