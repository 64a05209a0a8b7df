"""Translation with Apertium: a :class:`~reelsmith.models.interfaces.Translator`.

Apertium comes from Debian's packages: rule-based, offline, a few milliseconds a line. Its
installed language pairs are read from ``apertium -l``; a pair that is not installed directly
is reached through one shared language (English to French goes through Spanish when eng-spa
and es-fr are installed), which loses some quality and is reported as the route.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from reelsmith.models.interfaces import TranslationError

# Apertium names its pairs with ISO 639-1 or 639-3 codes; the API uses 639-1.
_ISO_639_3 = {
    "eng": "en", "spa": "es", "cat": "ca", "glg": "gl", "epo": "eo", "fra": "fr", "por": "pt",
    "ita": "it", "deu": "de", "nld": "nl", "ron": "ro", "oci": "oc", "eus": "eu", "isl": "is",
    "swe": "sv", "dan": "da", "nob": "no", "mkd": "mk", "bul": "bg", "afr": "af", "slv": "sl",
    "hbs": "sr", "rus": "ru", "ukr": "uk", "bel": "be", "pol": "pl", "ces": "cs", "slk": "sk",
}  # fmt: skip


def language_code(name: str) -> str | None:
    """``eng`` or ``en`` as the API's ``en``; None for what is not a plain language code."""
    if len(name) == 2 and name.isalpha():
        return name
    return _ISO_639_3.get(name)


@dataclass(frozen=True)
class ApertiumMode:
    """One installed Apertium mode (``eng-spa``) and the API codes of its two languages."""

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
        """The installed modes by (source, target), read once from ``apertium -l``."""
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

    def modes_between(self, source: str, target: str) -> list[ApertiumMode]:
        """The modes that take ``source`` to ``target``: one, or two through a pivot language;
        empty when there is no way."""
        if (source, target) in self.modes:
            return [self.modes[(source, target)]]
        for (first_source, pivot), first in sorted(self.modes.items()):
            if first_source == source and (pivot, target) in self.modes:
                return [first, self.modes[(pivot, target)]]
        return []

    def route(self, source: str, target: str) -> list[str]:
        """The source, the pivot language if one is needed, and the target."""
        return [mode.source for mode in self.modes_between(source, target)] + [target]

    def pairs(self) -> frozenset[tuple[str, str]]:
        """Every pair with a direct mode or a route through one pivot language."""
        return self._pairs

    @cached_property
    def _pairs(self) -> frozenset[tuple[str, str]]:
        # Read on every catalog request (each translation created); the modes never change.
        languages = {code for pair in self.modes for code in pair}
        return frozenset(
            (source, target)
            for source in languages
            for target in languages
            if source != target and self.modes_between(source, target)
        )

    def translate(self, lines: Sequence[str], source: str, target: str) -> list[str]:
        """The lines (inner whitespace collapsed) through each mode of the route in turn."""
        modes = self.modes_between(source, target)
        if not modes:
            raise TranslationError(f"no installed Apertium pair translates {source!r} into {target!r}")
        texts = [" ".join(line.split()) for line in lines]
        for mode in modes:
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
