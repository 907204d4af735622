"""Real OpenAI-compatible peers for the ``openai`` provider and embedder.

- ``botgpt_peer``: a second ``botgpt serve`` on loopback, answering with the echo engine
  (fast, deterministic) and embedding with the real all-MiniLM-L6-v2, at ``{base}/v1``.
- ``external_peer``: the server ``OPENAI_COMPAT_BASE_URL`` names (vLLM, Ollama, llama.cpp's
  server, OpenAI), with ``OPENAI_COMPAT_MODEL``, ``OPENAI_COMPAT_EMBED_MODEL``,
  ``OPENAI_COMPAT_EMBED_DIMENSION`` and ``OPENAI_COMPAT_API_KEY``; tests skip without it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

from tests.e2e.servers import Server, serving

# What the peer botgpt embeds with, and how wide its vectors are.
PEER_EMBED_MODEL = "all-MiniLM-L6-v2"
PEER_DIMENSION = 384
PEER_ENV = {
    "BOTGPT_STORE": "memory",
    "BOTGPT_ENGINE_FACTORY": "botgpt.adapters.echo_engine:build",
    "BOTGPT_SUMMARY_MEMORY": "false",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
}
SKIP_REASON = "set OPENAI_COMPAT_BASE_URL (and OPENAI_COMPAT_MODEL / OPENAI_COMPAT_EMBED_MODEL) to run against it"


@contextlib.contextmanager
def botgpt_peer(tmp: Path, env: dict[str, str] | None = None) -> Iterator[Server]:
    """A second botgpt, ready to answer; its OpenAI API is at ``server.base + "/v1"``."""
    with serving(tmp, env={**PEER_ENV, **(env or {})}) as server:
        server.wait_until("/ready", timeout=120)
        yield server


@attrs.frozen
class ExternalPeer:
    """An OpenAI-compatible server outside the test run."""

    base_url: str
    api_key: str
    model: str
    embed_model: str
    embed_dimension: int | None


def external_peer() -> ExternalPeer:
    """The server the environment names; skips the test when none is."""
    base_url = os.environ.get("OPENAI_COMPAT_BASE_URL", "").strip()
    if not base_url:
        pytest.skip(SKIP_REASON)
    dimension = os.environ.get("OPENAI_COMPAT_EMBED_DIMENSION", "").strip()
    return ExternalPeer(
        base_url=base_url,
        api_key=os.environ.get("OPENAI_COMPAT_API_KEY", ""),
        model=os.environ.get("OPENAI_COMPAT_MODEL", "gpt-4o-mini"),
        embed_model=os.environ.get("OPENAI_COMPAT_EMBED_MODEL", "text-embedding-3-small"),
        embed_dimension=int(dimension) if dimension else None,
    )
