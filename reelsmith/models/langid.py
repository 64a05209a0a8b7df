"""Which language a text is in, with py3langid: a
:class:`~reelsmith.models.interfaces.LanguageIdentifier`, for ``source_language: DEFAULT`` with
given captions. py3langid's model ships in its wheel; nothing is downloaded."""

from __future__ import annotations

from functools import cache

from reelsmith.languages import LANGUAGES
from reelsmith.models.interfaces import LanguageGuess


@cache
def _identifier():  # type: ignore[no-untyped-def]
    # Loaded once per process (the pickled model takes a moment), on first use.
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_pickled_model(MODEL_FILE, norm_probs=True)
    identifier.set_languages([code for code in LANGUAGES if len(code) == 2])
    return identifier


class Py3LangIdentifier:
    """py3langid's bundled model, limited to the two-letter codes requests may name."""

    name = "py3langid"

    def identify(self, text: str) -> LanguageGuess:
        """The most likely language code of ``text`` and its probability (0-1)."""
        code, probability = _identifier().classify(text)
        return LanguageGuess(str(code), float(probability))
