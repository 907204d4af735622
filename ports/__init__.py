"""Ports: the protocols the domain needs from the outside world, in domain terms."""

from botgpt.ports.chat import ChatModel
from botgpt.ports.stores import ConversationStore
from botgpt.ports.tokens import TokenCounter

__all__ = ["ChatModel", "ConversationStore", "TokenCounter"]
