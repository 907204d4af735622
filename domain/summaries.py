"""Summary memory: the turns that scroll out of the context window, folded into a summary.

After a turn has been delivered, the active branch is measured against the window the next
prompt will have. If it no longer fits, its oldest whole turns are folded into the
conversation's running summary, which later prompts carry after the system prompt. Folding
takes a little more than it must, so that the summary (and the prompt prefix the model
caches) changes every few turns rather than every turn.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

import attrs

from botgpt.domain.context import ContextBudget, message_cost, newest_that_fit, text_cost
from botgpt.domain.errors import ChatModelError
from botgpt.domain.model import ChatMessage, Conversation, GenerationOptions, Message, Role, Summary
from botgpt.domain.prompting import SUMMARY_HEADING, PromptBuilder, after_summary
from botgpt.domain.usage import UsageService
from botgpt.ports.chat import ChatModel
from botgpt.ports.stores import ConversationStore
from botgpt.ports.tokens import TokenCounter

log = logging.getLogger(__name__)

SUMMARY_INSTRUCTION = (
    "You keep a running summary of a conversation between a user and an assistant. Merge the "
    "previous summary and the new messages into one short summary in plain sentences. Keep every "
    "fact the user stated (names, numbers, dates, places, preferences, decisions) and what was "
    "agreed. Reply with the summary only."
)
# Room kept for the next user message when measuring whether the branch still fits: this
# many tokens, or an eighth of the usable window if that is less.
NEXT_MESSAGE_TOKENS = 256
# After folding, the kept history fills at most this share of its room (hysteresis).
KEEP_SHARE = 0.6
# How long shutdown waits for summaries under way before cancelling them.
DRAIN_SECONDS = 10.0


@attrs.define
class SummaryMemory:
    """Folds what falls out of a conversation's window into its summary, in the background.

    ``writer`` is the model that writes summaries (the chat model, or a cheaper one);
    ``prompts`` measures the chat model's window. What writing costs is added to the
    conversation's and the user's usage.
    """

    store: ConversationStore
    writer: ChatModel
    tokens: TokenCounter
    prompts: PromptBuilder
    usage: UsageService | None = None
    _running: dict[str, asyncio.Task[Summary | None]] = attrs.field(factory=dict, init=False)

    def schedule(self, conversation: Conversation) -> None:
        """Refresh the summary after this turn, unless a refresh of it is already running."""
        if conversation.id in self._running:
            return
        task = asyncio.create_task(self._refresh_logged(conversation.id))
        self._running[conversation.id] = task
        task.add_done_callback(lambda _: self._running.pop(conversation.id, None))

    async def drain(self, seconds: float = DRAIN_SECONDS) -> None:
        """Wait up to ``seconds`` for every refresh under way, then cancel the rest
        (at shutdown, and in tests). A cancelled refresh loses nothing: the next turn of that
        conversation folds the same overflow again."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while self._running and (left := deadline - loop.time()) > 0:
            await asyncio.wait(list(self._running.values()), timeout=left)
        if pending := [task for task in self._running.values() if not task.done()]:
            log.info("summary of %d conversation(s) left for their next turn: shutting down", len(pending))
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    async def refresh(self, conversation_id: str) -> Summary | None:
        """Fold the active branch's overflow into the summary; the new summary, or None if
        nothing had to be folded."""
        conversation = await self.store.get_conversation(None, conversation_id)
        if conversation is None or conversation.active_leaf_id is None:
            return None
        path = await self.store.branch(conversation.id, conversation.active_leaf_id)
        uncovered = after_summary(path, conversation.summary)
        previous = conversation.summary if uncovered is not None else None
        overflow = self.overflow(path if uncovered is None else uncovered)
        if not overflow:
            return None
        summary, prompt_tokens, completion_tokens = await self._fold(previous, overflow)
        await self.store.save_summary(conversation.id, summary, prompt_tokens, completion_tokens)
        if self.usage is not None:
            await self.usage.record_tokens(conversation.user_id, None, prompt_tokens, completion_tokens)
        return summary

    def overflow(self, history: Sequence[Message]) -> list[Message]:
        """The oldest whole turns of ``history`` to fold, or nothing while it all fits."""
        room, most = self._history_room(), self.prompts.policy.history_max_messages
        if room <= 0 or len(newest_that_fit(history, room, message_cost, most)) == len(history):
            return []
        kept = len(newest_that_fit(history, int(room * KEEP_SHARE), message_cost, int(most * KEEP_SHARE)))
        folded = list(history[: len(history) - kept])
        # The kept history must start with a user message: fold whole exchanges only.
        while len(folded) < len(history) and history[len(folded)].role is not Role.USER:
            folded.append(history[len(folded)])
        return folded

    def _history_room(self) -> int:
        policy = self.prompts.policy
        system = self.tokens.count(f"{policy.system_prompt}\n\n{SUMMARY_HEADING}\n") + policy.summary_max_tokens
        budget = self.prompts.budget()
        return budget.history_room(system, min(NEXT_MESSAGE_TOKENS, budget.usable // 8))

    async def _fold(self, previous: Summary | None, messages: Sequence[Message]) -> tuple[Summary, int, int]:
        text = previous.text if previous else ""
        spent_prompt = spent_completion = 0
        for batch in self._batches(messages, self.tokens.count(text)):
            completion = await self.writer.complete(
                _summary_prompt(text, batch), GenerationOptions(max_tokens=self.prompts.policy.summary_max_tokens)
            )
            text = completion.text.strip() or text
            spent_prompt += completion.prompt_tokens
            spent_completion += completion.completion_tokens
        return Summary(text, messages[-1].id, self.tokens.count(text)), spent_prompt, spent_completion

    def _batches(self, messages: Sequence[Message], summary_tokens: int) -> list[list[str]]:
        """The messages as transcript lines, in batches that fit the writer's window."""
        policy = self.prompts.policy
        budget = ContextBudget(self.writer.context_window, policy.summary_max_tokens, policy.safety_margin)
        room = budget.usable - text_cost(self.tokens.count(SUMMARY_INSTRUCTION)) - policy.summary_max_tokens - 16
        line_cap = max(16, room // 2)
        batches: list[list[str]] = [[]]
        spent = summary_tokens
        for message in messages:
            line = self._line(message, line_cap)
            cost = self.tokens.count(line)
            if batches[-1] and spent + cost > room:
                batches.append([])
                spent = policy.summary_max_tokens
            batches[-1].append(line)
            spent += cost
        return batches

    def _line(self, message: Message, cap: int) -> str:
        line = f"{message.role.value.capitalize()}: {' '.join(message.content.split())}"
        tokens = self.tokens.count(line)
        return line if tokens <= cap else line[: len(line) * cap // tokens] + " …"

    async def _refresh_logged(self, conversation_id: str) -> Summary | None:
        try:
            return await self.refresh(conversation_id)
        except ChatModelError as error:
            # The next turn tries again; until then the prompt simply carries less history.
            log.warning("summary of conversation %s not updated: %s", conversation_id, error)
        except Exception:
            log.exception("summary of conversation %s failed", conversation_id)
        return None


def _summary_prompt(previous: str, lines: Sequence[str]) -> list[ChatMessage]:
    transcript = "\n".join(lines)
    body = f"Previous summary:\n{previous or '(none)'}\n\nNew messages:\n{transcript}\n\nUpdated summary:"
    return [ChatMessage(Role.SYSTEM, SUMMARY_INSTRUCTION), ChatMessage(Role.USER, body)]
