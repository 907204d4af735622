"""A chat provider for any server that speaks OpenAI's chat completions API (Ollama, vLLM, llama-server)."""

from __future__ import annotations

from collections.abc import Sequence

import httpx

from botgpt.domain.errors import ModelFailed, ModelUnavailable
from botgpt.domain.model import ChatMessage, GenerationOptions
from botgpt.plugins.simple_chat import SimpleChatModel


class OpenAICompatibleChat(SimpleChatModel):
    """Whole answers from ``POST {base_url}/chat/completions``."""

    def __init__(self, base_url: str, model: str, api_key: str = "", context_window: int = 8192) -> None:
        self.base_url, self.name, self.context_window = base_url.rstrip("/"), model, context_window
        self.headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}

    async def generate(self, messages: Sequence[ChatMessage], options: GenerationOptions) -> str:
        body = {
            "model": self.name,
            "messages": [{"role": message.role.value, "content": message.content} for message in messages],
            "max_tokens": options.max_tokens,
            "temperature": options.temperature,
            "stop": list(options.stop) or None,
        }
        try:
            async with httpx.AsyncClient(timeout=60) as client:
                response = await client.post(f"{self.base_url}/chat/completions", json=body, headers=self.headers)
        except httpx.TransportError as error:
            raise ModelUnavailable(f"{self.base_url} is unreachable") from error
        if response.status_code == 429 or response.status_code >= 500:
            raise ModelUnavailable(f"{self.base_url} answered {response.status_code}")
        if response.status_code >= 400:
            raise ModelFailed(f"{self.base_url} refused the request ({response.status_code})")
        return str(response.json()["choices"][0]["message"]["content"])
