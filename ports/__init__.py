"""Ports: the protocols the domain needs from the outside world, in domain terms."""

from botgpt.ports.ai import Chunker, Embedder, Retriever, TextExtractor
from botgpt.ports.blobs import BlobStorage
from botgpt.ports.chat import ChatModel
from botgpt.ports.documents import DocumentStore
from botgpt.ports.stores import ConversationStore
from botgpt.ports.tokens import TokenCounter

__all__ = [
    "BlobStorage",
    "ChatModel",
    "Chunker",
    "ConversationStore",
    "DocumentStore",
    "Embedder",
    "Retriever",
    "TextExtractor",
    "TokenCounter",
]
