"""One request to an OpenAI-compatible chat-completions endpoint (vLLM, Ollama, llama.cpp server) at
``LEARNLAKE_LLM_URL``: the tutor's answers and the practice questions written by a model both go
through here, so the protocol, the key and the failures are handled once."""

import httpx

from learnlake.errors import LearnLakeError
from learnlake.settings import Settings


class ChatCompletionError(LearnLakeError):
    """The endpoint could not answer: unreachable, an error status, or a reply of another shape."""


class ChatEndpoint:
    def __init__(self, url: str, model: str, *, api_key: str | None = None, timeout_s: float = 60.0):
        self.url = url.rstrip("/")
        self.model, self.api_key, self.timeout_s = model, api_key, timeout_s

    @classmethod
    def configured(cls, settings: Settings) -> "ChatEndpoint | None":
        """The endpoint ``LEARNLAKE_LLM_URL`` names, or None when it is unset."""
        if not settings.llm_url:
            return None
        key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
        return cls(settings.llm_url, settings.llm_model, api_key=key)

    def reply(self, messages: list[dict]) -> str:
        """The assistant's reply to ``messages``, at temperature 0 (the same question, the same reply)."""
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        try:
            response = httpx.post(f"{self.url}/chat/completions", headers=headers, timeout=self.timeout_s,
                                  json={"model": self.model, "temperature": 0, "messages": messages})
            response.raise_for_status()
            return response.json()["choices"][0]["message"]["content"].strip()
        except (httpx.HTTPError, KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
            raise ChatCompletionError(f"the model endpoint at {self.url} failed: {exc}") from exc
