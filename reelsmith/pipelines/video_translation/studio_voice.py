"""``studio_voice``: words kept, words forced, words pronounced, and the speaking style.

Kept and forced words are swapped for placeholder tokens (``Zq0qZ``) before translation; the
translators pass unknown tokens through untouched, and afterwards each token becomes the kept
word or its forced translation. Pronunciations change only what is spoken, never the captions.
A style's name (Akool's) becomes a :class:`~reelsmith.models.interfaces.Style`, the rate and
pitch that every voice speaks with (:data:`STYLES`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from reelsmith.models.interfaces import Style
from reelsmith.products.video_translation import StudioVoiceParams

# studio_voice.style, by Akool's names: "professional" is a voice's own rate and pitch.
STYLES: dict[str, Style] = {
    "professional": Style(1.0, 0),
    "affectionate": Style(0.92, 6),
    "angry": Style(1.1, -4),
    "calm": Style(0.9, -4),
    "cheerful": Style(1.08, 10),
    "depressed": Style(0.82, -10),
    "disgruntled": Style(0.95, -6),
    "embarrassed": Style(0.95, 4),
    "empathetic": Style(0.92, 2),
    "excited": Style(1.15, 14),
    "fearful": Style(1.1, 12),
    "friendly": Style(1.0, 6),
    "unfriendly": Style(1.0, -8),
    "sad": Style(0.85, -8),
    "serious": Style(0.95, -6),
    "relaxed": Style(0.9, 0),
}

_TOKEN = "Zq{}qZ"
_TOKEN_PATTERN = re.compile(r"zq\s?(\d+)\s?qz", re.IGNORECASE)


@dataclass(frozen=True)
class StudioVoice:
    """The request's ``studio_voice``: terms kept or forced in translation, spellings for the
    voice, and the speaking style's name."""

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

    @classmethod
    def of(cls, params: StudioVoiceParams) -> StudioVoice:
        """The task's ``studio_voice``, as its params carry it."""
        return cls(params.no_translate_words, params.fixed_words, params.pronounced_words, params.style)

    @property
    def speaking(self) -> Style:
        """The rate and pitch of :attr:`style`."""
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
            # A template whose backslashes are doubled: the spelling is said as it is written.
            text = _whole_word(word).sub(self.pronounced_words[word].replace("\\", r"\\"), text)
        return text


def restore_tokens(text: str, restore: Mapping[str, str]) -> str:
    """The translated ``text`` with each placeholder token replaced by what it stands for."""
    return _TOKEN_PATTERN.sub(lambda match: restore.get(match.group(1), match.group(0)), text)


def _whole_word(term: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w){re.escape(term)}(?!\w)", re.IGNORECASE)
