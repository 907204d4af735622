"""Time to first token of a follow-up turn, with and without llama.cpp KV-cache reuse.

Builds a real multi-turn conversation with the local model (SmolLM2-135M through the
conversation service), then times the next turn's prefill: generation capped at one token,
so the time is prompt evaluation plus the first token. "Reuse" keeps the evaluated prefix in
the engine slot; "no reuse" evaluates every prompt afresh, as a stateless server would.

    python bench/kv_cache_ttft.py [--turns 6] [--runs 7]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _support import median, started_local_model

from botgpt.adapters.engine_client import EngineChatModel
from botgpt.adapters.memory_store import MemoryConversationStore
from botgpt.adapters.tiktoken_tokens import TiktokenCounter
from botgpt.domain.conversations import ConversationService
from botgpt.domain.model import GenerationOptions, Message, Role
from botgpt.domain.policy import ConversationPolicy

QUESTIONS = [
    "Tell me about lighthouses and why they were built.",
    "How did lighthouse keepers live?",
    "What replaced them?",
    "Which lighthouse is the most famous?",
    "How tall is it?",
    "Can visitors go inside?",
    "What is a Fresnel lens?",
    "Summarise what we discussed.",
]


async def build_history(model: EngineChatModel, turns: int) -> tuple[ConversationService, str]:
    service = ConversationService(
        store=MemoryConversationStore(),
        chat=model,
        tokens=TiktokenCounter(),
        policy=ConversationPolicy(max_answer_tokens=96),
    )
    turn = await service.start("bench", QUESTIONS[0])
    for question in QUESTIONS[1:turns]:
        await service.post("bench", turn.conversation.id, question)
    return service, turn.conversation.id


async def time_follow_up(model: EngineChatModel, service: ConversationService, cid: str) -> tuple[float, int]:
    history = await service.store.list_messages(cid)  # one branch: every message, in order
    follow_up = Message(
        id="f" * 32,
        conversation_id=cid,
        role=Role.USER,
        content="And what about today?",
        created_at=history[-1].created_at,
        tokens=6,
    )
    # Put the model in the state a follow-up finds: the previous turn's prompt evaluated.
    await model.complete(
        service.prompts.build(service.policy.system_prompt, history[:-2], history[-2]), GenerationOptions(max_tokens=1)
    )
    started = time.perf_counter()
    completion = await model.complete(
        service.prompts.build(service.policy.system_prompt, history, follow_up), GenerationOptions(max_tokens=1)
    )
    return time.perf_counter() - started, completion.prompt_tokens


async def main_async(turns: int, runs: int) -> None:
    reusing = await started_local_model(llama_n_ctx=4096, llama_prefix_cache=True)
    stateless = await started_local_model(llama_n_ctx=4096, llama_prefix_cache=False)
    service, cid = await build_history(reusing, turns)
    with_reuse, without = [], []
    prompt_tokens = 0
    for _ in range(runs):
        elapsed, prompt_tokens = await time_follow_up(reusing, service, cid)
        with_reuse.append(elapsed * 1000)
        elapsed, _ = await time_follow_up(stateless, service, cid)
        without.append(elapsed * 1000)
    await reusing.close()
    await stateless.close()
    print(f"follow-up prompt: {prompt_tokens} tokens after {turns} turns")
    print(f"TTFT with KV-cache reuse:    median {median(with_reuse):.0f} ms over {runs} runs")
    print(f"TTFT without KV-cache reuse: median {median(without):.0f} ms over {runs} runs")
    print(f"ratio (without / with): {median(without) / median(with_reuse):.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=6)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    asyncio.run(main_async(args.turns, args.runs))


if __name__ == "__main__":
    main()
