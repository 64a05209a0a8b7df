"""Which language a text is in, for ``source_language: DEFAULT`` with given captions or a
multilingual recogniser. py3langid's model ships in its wheel; nothing is downloaded."""

from __future__ import annotations

from functools import cache

from reelsmith.languages import LANGUAGES


@cache
def _identifier():  # type: ignore[no-untyped-def]
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_pickled_model(MODEL_FILE, norm_probs=True)
    identifier.set_languages([code for code in LANGUAGES if len(code) == 2])
    return identifier


def detect_language(text: str) -> tuple[str, float]:
    """The most likely language code of ``text`` and its probability (0-1)."""
    code, probability = _identifier().classify(text)
    return str(code), float(probability)
