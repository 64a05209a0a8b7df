"""``studio_voice``: words kept, words forced, words pronounced, and the speaking style.

Kept and forced words are swapped for placeholder tokens (``Zq0qZ``) before translation; the
engines pass unknown tokens through untouched, and afterwards each token becomes the kept word
or its forced translation. Pronunciations change only what is spoken, never the captions.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from reelsmith.engines.speech import STYLES, Style

_TOKEN = "Zq{}qZ"
_TOKEN_PATTERN = re.compile(r"zq\s?(\d+)\s?qz", re.IGNORECASE)


@dataclass(frozen=True)
class StudioVoice:
    no_translate_words: tuple[str, ...] = ()
    fixed_words: Mapping[str, str] = field(default_factory=dict)
    pronounced_words: Mapping[str, str] = field(default_factory=dict)
    style: str = "professional"

    @classmethod
    def from_params(cls, value: Mapping[str, Any] | None) -> StudioVoice:
        """Built from the request's ``studio_voice`` object, already checked at creation."""
        value = value or {}
        return cls(
            no_translate_words=tuple(value.get("no_translate_words") or ()),
            fixed_words=dict(value.get("fixed_words") or {}),
            pronounced_words=dict(value.get("pronounced_words") or {}),
            style=value.get("style") or "professional",
        )

    @property
    def speaking(self) -> Style:
        return STYLES[self.style]

    def protect(self, text: str) -> tuple[str, dict[str, str]]:
        """``text`` with kept and forced terms replaced by tokens, and what each token becomes."""
        terms = {word: word for word in self.no_translate_words} | dict(self.fixed_words)
        restore: dict[str, str] = {}
        for term in sorted(terms, key=len, reverse=True):
            pattern = _whole_word(term)
            if pattern.search(text):
                index = str(len(restore))
                restore[index] = terms[term]
                text = pattern.sub(_TOKEN.format(index), text)
        return text, restore

    def pronounce(self, text: str) -> str:
        """What the voice should say for ``text``: each listed word replaced by its spelling."""
        for word in sorted(self.pronounced_words, key=len, reverse=True):
            text = _whole_word(word).sub(lambda _, say=self.pronounced_words[word]: say, text)
        return text


def restore_tokens(text: str, restore: Mapping[str, str]) -> str:
    """The translated ``text`` with each placeholder token replaced by what it stands for."""
    return _TOKEN_PATTERN.sub(lambda match: restore.get(match.group(1), match.group(0)), text)


def _whole_word(term: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w){re.escape(term)}(?!\w)", re.IGNORECASE)
