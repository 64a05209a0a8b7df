"""Translation by an OpenAI-compatible chat endpoint that the operator configured
(``REELSMITH_TRANSLATION_OPENAI_URL``): a :class:`~reelsmith.models.interfaces.Translator` for
whatever languages the operator says its model knows."""

from __future__ import annotations

import json
from collections.abc import Sequence

import httpx

from reelsmith.models.interfaces import TranslationError


class ChatTranslator:
    """An OpenAI-compatible ``/chat/completions`` endpoint that the operator configured."""

    name = "openai-compatible"

    def __init__(self, url: str, model: str, api_key: str | None, languages: Sequence[str], timeout: float) -> None:
        self.url = url.rstrip("/") + "/chat/completions"
        self.model = model
        self.api_key = api_key
        self.languages = tuple(languages)
        self.timeout = timeout

    def pairs(self) -> frozenset[tuple[str, str]]:
        """Every pair of two different configured languages."""
        return frozenset((s, t) for s in self.languages for t in self.languages if s != t)

    def route(self, source: str, target: str) -> list[str]:
        """Always direct."""
        return [source, target]

    def translate(self, lines: Sequence[str], source: str, target: str) -> list[str]:
        """All lines in one request, asked back as a JSON array of as many strings."""
        if not lines:
            return []
        prompt = (
            f"Translate each string of this JSON array from language {source!r} into language {target!r}. "
            "These are subtitle lines of one video, in order. Keep tokens like Zq0qZ exactly as they are. "
            "Answer with only a JSON array of the translated strings, the same number of them.\n"
            + json.dumps(list(lines), ensure_ascii=False)
        )
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        body = {"model": self.model, "temperature": 0, "messages": [{"role": "user", "content": prompt}]}
        try:
            response = httpx.post(self.url, json=body, headers=headers, timeout=self.timeout)
            response.raise_for_status()
            content = response.json()["choices"][0]["message"]["content"]
        except (httpx.HTTPError, KeyError, IndexError, TypeError, ValueError) as exc:
            raise TranslationError(f"the translation endpoint failed: {exc!r}") from exc
        if not isinstance(content, str):
            raise TranslationError("the translation endpoint answered without a text message")
        return _json_lines(content, len(lines))


def _json_lines(content: str, count: int) -> list[str]:
    start, end = content.find("["), content.rfind("]")
    try:
        lines = json.loads(content[start : end + 1]) if start >= 0 else None
    except ValueError:
        lines = None
    if not isinstance(lines, list) or len(lines) != count or not all(isinstance(line, str) for line in lines):
        raise TranslationError(f"the translation endpoint did not answer with {count} translated lines")
    return [line.strip() for line in lines]
