"""Built-in reranker ``cross_encoder``: a sentence-transformers cross-encoder from a local folder."""

from __future__ import annotations

from pathlib import Path

from botgpt.adapters.cross_encoder import CrossEncoderReranker
from botgpt.plugins.hookspecs import PluginContext, RegisterReranker, hookimpl


def build_cross_encoder(context: PluginContext) -> CrossEncoderReranker:
    """Needs ``reranker_model_path``: no cross-encoder ships offline on the package index."""
    path = str(context.config.get("reranker_model_path") or "")
    if not path:
        raise ValueError("the cross_encoder reranker needs BOTGPT_RERANKER_MODEL_PATH (a local model folder)")
    return CrossEncoderReranker(Path(path))


@hookimpl
def register_rerankers(register: RegisterReranker) -> None:
    register("cross_encoder", build_cross_encoder)
