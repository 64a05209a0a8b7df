"""Word error rate: how much of a reference text a transcript gets wrong (substitutions,
deletions and insertions over the reference's words), after the normalisation speech tests use:
case, punctuation and accents' composition do not count."""

from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")


# Ligatures are spellings, not different words ("sœur" and "soeur").
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae"})


def words(text: str) -> list[str]:
    """The text's words, lower-cased, NFC-composed, ligatures spelt out, without punctuation."""
    return _WORD.findall(unicodedata.normalize("NFC", text).lower().translate(_LIGATURES))


def word_error_rate(reference: str, heard: str) -> float:
    """Word-level edit distance between ``reference`` and ``heard``, over the reference's length."""
    ref, hyp = words(reference), words(heard)
    if not ref:
        return 0.0 if not hyp else 1.0
    previous = list(range(len(hyp) + 1))
    for i, word in enumerate(ref, start=1):
        current = [i] + [0] * len(hyp)
        for j, other in enumerate(hyp, start=1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (word != other))
        previous = current
    return previous[-1] / len(ref)
