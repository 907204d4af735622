"""The hooks a botgpt plugin can implement.

Hooks only register factories at start-up: pluggy is synchronous, so a hook never does
I/O. The objects the factories build do the real, asynchronous work.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pluggy

from botgpt.ports.chat import ChatModel

PROJECT = "botgpt"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

# A factory receives the whole flat configuration (keys as in the README's table) and
# builds the model without loading it. If the model has async ``load()`` / ``close()``
# methods, the host awaits them when the server starts and stops.
ChatModelFactory = Callable[[Mapping[str, Any]], ChatModel]
RegisterChatModel = Callable[[str, ChatModelFactory], None]


@hookspec
def register_chat_models(register: RegisterChatModel) -> None:
    """Register chat model factories: ``register("provider-name", factory)``."""
