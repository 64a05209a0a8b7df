"""Text translation, one subtitle line at a time, behind one small interface.

The default engine is Apertium from Debian's packages: rule-based, offline, a few milliseconds
a line. Its installed language pairs are read from ``apertium -l``; a pair that is not
installed directly is reached through one shared language (English to French goes through
Spanish when eng-spa and es-fr are installed), which loses some quality and is reported as
the route. An operator with a better model behind an OpenAI-compatible chat endpoint sets
``REELSMITH_TRANSLATION_OPENAI_URL`` and its languages instead.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Protocol

import httpx

# Apertium names its pairs with ISO 639-1 or 639-3 codes; the API uses 639-1.
_ISO_639_3 = {
    "eng": "en", "spa": "es", "cat": "ca", "glg": "gl", "epo": "eo", "fra": "fr", "por": "pt",
    "ita": "it", "deu": "de", "nld": "nl", "ron": "ro", "oci": "oc", "eus": "eu", "isl": "is",
    "swe": "sv", "dan": "da", "nob": "no", "mkd": "mk", "bul": "bg", "afr": "af", "slv": "sl",
    "hbs": "sr", "rus": "ru", "ukr": "uk", "bel": "be", "pol": "pl", "ces": "cs", "slk": "sk",
}  # fmt: skip


class TranslationError(RuntimeError):
    """The pair cannot be translated, or the engine failed; says which."""


class Translator(Protocol):
    name: str

    def pairs(self) -> frozenset[tuple[str, str]]:
        """(source, target) language pairs it can translate, direct or through a pivot."""
        ...

    def path(self, source: str, target: str) -> list[str]:
        """The languages a translation passes through, ``source`` and ``target`` included."""
        ...

    def translate(self, lines: Sequence[str], source: str, target: str) -> list[str]:
        """Each line translated, in order; the same number of lines back."""
        ...


def language_code(name: str) -> str | None:
    """``eng`` or ``en`` as the API's ``en``; None for what is not a plain language code."""
    if len(name) == 2 and name.isalpha():
        return name
    return _ISO_639_3.get(name)


@dataclass(frozen=True)
class ApertiumMode:
    name: str
    source: str
    target: str


class ApertiumTranslator:
    """Apertium's installed modes, each run as ``apertium -u MODE`` over the lines at once."""

    name = "apertium"

    def __init__(self, binary: str = "apertium") -> None:
        self.binary = shutil.which(binary)

    @cached_property
    def modes(self) -> dict[tuple[str, str], ApertiumMode]:
        if self.binary is None:
            return {}
        try:
            listing = subprocess.run([self.binary, "-l"], capture_output=True, text=True, timeout=30).stdout
        except (OSError, subprocess.SubprocessError):
            return {}
        modes: dict[tuple[str, str], ApertiumMode] = {}
        for name in listing.split():
            # Variants (eng-cat_valencia) and special pipelines (en-eo-bytecode) are skipped.
            parts = name.split("-")
            if len(parts) != 2 or "_" in name:
                continue
            source, target = language_code(parts[0]), language_code(parts[1])
            if source and target and (source, target) not in modes:
                modes[(source, target)] = ApertiumMode(name, source, target)
        return modes

    def route(self, source: str, target: str) -> list[ApertiumMode]:
        """The modes that take ``source`` to ``target``: one, or two through a pivot language;
        empty when there is no way."""
        if (source, target) in self.modes:
            return [self.modes[(source, target)]]
        for (first_source, pivot), first in sorted(self.modes.items()):
            if first_source == source and (pivot, target) in self.modes:
                return [first, self.modes[(pivot, target)]]
        return []

    def path(self, source: str, target: str) -> list[str]:
        return [mode.source for mode in self.route(source, target)] + [target]

    def pairs(self) -> frozenset[tuple[str, str]]:
        return self._pairs

    @cached_property
    def _pairs(self) -> frozenset[tuple[str, str]]:
        # Read on every catalog request (each translation created); the modes never change.
        languages = {code for pair in self.modes for code in pair}
        return frozenset(
            (source, target)
            for source in languages
            for target in languages
            if source != target and self.route(source, target)
        )

    def translate(self, lines: Sequence[str], source: str, target: str) -> list[str]:
        route = self.route(source, target)
        if not route:
            raise TranslationError(f"no installed Apertium pair translates {source!r} into {target!r}")
        texts = [" ".join(line.split()) for line in lines]
        for mode in route:
            texts = self._run(mode, texts)
        return texts

    def _run(self, mode: ApertiumMode, texts: list[str]) -> list[str]:
        # Apertium keeps line breaks, so every line goes through one process; should a line
        # ever come back split or joined, each line is translated alone instead.
        if not texts:
            return []
        output = self._call(mode, "\n".join(texts) + "\n").split("\n")[:-1]
        translated = [line.strip() for line in output]
        if len(translated) != len(texts):
            return [self._call(mode, text + "\n").strip() for text in texts]
        if all(line or not text for text, line in zip(texts, translated, strict=True)):
            return translated
        return [self._call(mode, text + "\n").strip() for text in texts]

    def _call(self, mode: ApertiumMode, text: str) -> str:
        assert self.binary is not None
        try:
            done = subprocess.run(
                [self.binary, "-u", mode.name], input=text, capture_output=True, text=True, timeout=120
            )
        except subprocess.TimeoutExpired as exc:
            raise TranslationError(f"Apertium ({mode.name}) took longer than 120 s") from exc
        if done.returncode != 0:
            raise TranslationError(f"Apertium ({mode.name}) failed: {done.stderr.strip()[-300:]}")
        return done.stdout


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
        return frozenset((s, t) for s in self.languages for t in self.languages if s != t)

    def path(self, source: str, target: str) -> list[str]:
        return [source, target]

    def translate(self, lines: Sequence[str], source: str, target: str) -> list[str]:
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
