"""A thin layer over llama.cpp's C API (through llama-cpp-python's ctypes bindings).

Only the engine process imports this module: the HTTP side never loads native code.
"""

from __future__ import annotations

import ctypes
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from llama_cpp import llama_cpp as C
from llama_cpp.llama_chat_format import Jinja2ChatFormatter

from botgpt.adapters.cpu_features import host_cpu_flags, missing_cpu_features

log = logging.getLogger("botgpt.engine")

CHATML = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)


@C.llama_log_callback  # type: ignore[untyped-decorator,misc]
def _warnings_only(level: int, text: bytes, user_data: Any) -> None:
    """llama.cpp's warnings and errors into our log; its load chatter (100+ lines) nowhere."""
    if level in (3, 4):  # GGML_LOG_LEVEL_WARN, GGML_LOG_LEVEL_ERROR
        log.warning("llama.cpp: %s", text.decode(errors="replace").rstrip())


def check_cpu() -> None:
    """Refuse to run a build that would execute instructions this CPU (or its hypervisor)
    does not offer: an illegal instruction would kill the engine at the first token."""
    flags = host_cpu_flags()
    info = C.llama_print_system_info().decode(errors="replace")
    missing = missing_cpu_features(info, flags) if flags is not None else []
    if missing:
        raise RuntimeError(
            f"this llama-cpp-python build uses CPU features this host lacks ({', '.join(missing)}); "
            'reinstall it with CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX2=OFF -DGGML_FMA=OFF -DGGML_F16C=OFF '
            '-DGGML_BMI2=OFF" pip install --no-cache-dir --force-reinstall llama-cpp-python'
        )


class NativeModel:
    """One model and one context with ``sequences`` independent KV sequences."""

    def __init__(
        self, path: Path, *, n_ctx: int, sequences: int, n_batch: int, threads: int, extra_buffers: bool
    ) -> None:
        check_cpu()
        C.llama_backend_init()
        C.llama_log_set(_warnings_only, ctypes.c_void_p(0))
        model_params = C.llama_model_default_params()
        # Extra buffer types repack weights for AMX and similar kernels; AMX faults under
        # some hypervisors that report it, so they are opt-in.
        model_params.use_extra_bufts = extra_buffers
        self.model = C.llama_model_load_from_file(str(path).encode(), model_params)
        if not self.model:
            raise RuntimeError(f"llama.cpp could not load {path}")
        self.vocab = C.llama_model_get_vocab(self.model)
        self.ctx = C.llama_init_from_model(self.model, self._context_params(n_ctx, sequences, n_batch, threads))
        if not self.ctx:
            raise RuntimeError("llama.cpp could not create a context")
        self.memory = C.llama_get_memory(self.ctx)
        self.n_batch = n_batch
        self.batch = C.llama_batch_init(n_batch, 0, 1)
        self.formatter = self._formatter()

    @staticmethod
    def _context_params(n_ctx: int, sequences: int, n_batch: int, threads: int) -> Any:
        params = C.llama_context_default_params()
        params.n_ctx = n_ctx * sequences
        params.n_batch = params.n_ubatch = n_batch
        params.n_seq_max = sequences
        params.kv_unified = False  # each slot keeps a whole window of its own
        params.n_threads = params.n_threads_batch = threads or (os.cpu_count() or 1)
        params.no_perf = True
        return params

    def _formatter(self) -> Jinja2ChatFormatter:
        template = C.llama_model_chat_template(self.model, None)
        bos = self.piece(C.llama_vocab_bos(self.vocab), special=True).decode(errors="ignore")
        eos = self.piece(C.llama_vocab_eos(self.vocab), special=True).decode(errors="ignore")
        return Jinja2ChatFormatter(template.decode() if template else CHATML, eos_token=eos, bos_token=bos)

    def prompt_tokens(self, messages: Sequence[dict[str, str]]) -> list[int]:
        """The chat template applied to ``messages``, tokenized (special tokens parsed)."""
        prompt = self.formatter(messages=list(messages)).prompt  # type: ignore[arg-type]
        return self.tokenize(prompt.encode())

    def tokenize(self, data: bytes) -> list[int]:
        capacity = len(data) + 16
        tokens = (C.llama_token * capacity)()
        count = C.llama_tokenize(self.vocab, data, len(data), tokens, capacity, False, True)
        if count < 0:
            raise ValueError("the prompt could not be tokenized")
        return list(tokens[:count])

    def piece(self, token: int, special: bool = False) -> bytes:
        buffer = ctypes.create_string_buffer(64)
        size = C.llama_token_to_piece(self.vocab, token, buffer, len(buffer), 0, special)
        if size < 0:
            buffer = ctypes.create_string_buffer(-size)
            size = C.llama_token_to_piece(self.vocab, token, buffer, len(buffer), 0, special)
        return buffer.raw[:size]

    def is_end(self, token: int) -> bool:
        return bool(C.llama_vocab_is_eog(self.vocab, token))

    def sampler(
        self,
        temperature: float,
        repeat_penalty: float,
        history: Sequence[int],
        top_p: float | None = None,
        seed: int | None = None,
    ) -> Any:
        """A sampler chain like llama-cpp-python's defaults; ``history`` primes the penalty.
        ``top_p`` and ``seed`` left ``None`` take those defaults (0.95, a random seed)."""
        chain = C.llama_sampler_chain_init(C.llama_sampler_chain_default_params())
        add = C.llama_sampler_chain_add
        add(chain, C.llama_sampler_init_penalties(C.llama_vocab_n_tokens(self.vocab), 64, repeat_penalty, 0.0, 0.0))
        if temperature <= 0:
            add(chain, C.llama_sampler_init_greedy())
        else:
            add(chain, C.llama_sampler_init_top_k(40))
            add(chain, C.llama_sampler_init_top_p(0.95 if top_p is None else top_p, 1))
            add(chain, C.llama_sampler_init_min_p(0.05, 1))
            add(chain, C.llama_sampler_init_temp(temperature))
            # llama.cpp seeds are 32-bit; LLAMA_DEFAULT_SEED asks for a random one.
            add(chain, C.llama_sampler_init_dist(C.LLAMA_DEFAULT_SEED if seed is None else seed % 2**32))
        for token in history[-64:]:
            C.llama_sampler_accept(chain, token)
        return chain

    def sample(self, sampler: Any, index: int) -> int:
        """The next token from the logits at batch position ``index`` (accepted into ``sampler``)."""
        return int(C.llama_sampler_sample(sampler, self.ctx, index))

    @staticmethod
    def free_sampler(sampler: Any) -> None:
        C.llama_sampler_free(sampler)

    def forget(self, sequence: int, keep: int) -> None:
        """Drop the KV cells of ``sequence`` from position ``keep`` on."""
        C.llama_memory_seq_rm(self.memory, sequence, keep, -1)

    def decode(self, entries: Sequence[tuple[int, int, int, bool]]) -> int:
        """Evaluate ``(token, position, sequence, wants_logits)`` entries in one batch; the
        llama.cpp status (0 is success)."""
        batch = self.batch
        for i, (token, position, sequence, logits) in enumerate(entries):
            batch.token[i] = token
            batch.pos[i] = position
            batch.n_seq_id[i] = 1
            batch.seq_id[i][0] = sequence
            batch.logits[i] = 1 if logits else 0
        batch.n_tokens = len(entries)
        return int(C.llama_decode(self.ctx, batch))
