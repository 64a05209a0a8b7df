"""Which model adapters a worker uses, built from the settings, and which of them serves what.

This is the one place an adapter is registered. Each kind is a tuple in order of preference:
the first recogniser that knows the spoken language recognises it, the first translator that
offers a pair translates it, and a language's voices are listed synthesiser by synthesiser, so
its default voice (the first) is the first synthesiser's. A new adapter is one module beside
this one (it implements a protocol of :mod:`reelsmith.models.interfaces`), one entry in a tuple
below, and its settings in :mod:`reelsmith.settings`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from reelsmith.models.apertium import ApertiumTranslator
from reelsmith.models.espeak import EspeakSynthesizer
from reelsmith.models.interfaces import (
    LanguageIdentifier,
    Recognizer,
    SynthesisError,
    Synthesizer,
    Translator,
    Voice,
)
from reelsmith.models.langid import Py3LangIdentifier
from reelsmith.models.openai_chat import ChatTranslator
from reelsmith.models.whisper import BUNDLED_SHA256, WhisperRecognizer, bundled_model_dir
from reelsmith.settings import Settings


@dataclass(frozen=True)
class Models:
    """The adapters of each kind, in order of preference, and the choice among them."""

    recognizers: tuple[Recognizer, ...]
    translators: tuple[Translator, ...]
    synthesizers: tuple[Synthesizer, ...]
    language_identifier: LanguageIdentifier

    def recognizer_for(self, language: str | None) -> Recognizer | None:
        """The first recogniser that knows ``language`` (None: the first that detects among
        every language); failing that the first, whose refusal says what to do instead; None
        when none is installed."""

        def knows(recognizer: Recognizer) -> bool:
            known = recognizer.languages()
            return known is None or (language is not None and language in known)

        return next((r for r in self.recognizers if knows(r)), self.recognizers[0] if self.recognizers else None)

    def recognisable(self) -> frozenset[str] | None:
        """The languages some recogniser knows; None when one knows any language."""
        known: set[str] = set()
        for recognizer in self.recognizers:
            languages = recognizer.languages()
            if languages is None:
                return None
            known |= languages
        return frozenset(known)

    def translation_pairs(self) -> frozenset[tuple[str, str]]:
        """Every (source, target) pair some translator offers."""
        return frozenset(pair for translator in self.translators for pair in translator.pairs())

    def translator_for(self, source: str, target: str) -> Translator | None:
        """The first translator that offers the pair; None when none does."""
        return next((t for t in self.translators if (source, target) in t.pairs()), None)

    def spoken_languages(self) -> frozenset[str]:
        """The languages some synthesiser has voices for."""
        return frozenset(code for synthesizer in self.synthesizers for code in synthesizer.languages())

    def voices(self, language: str) -> list[Voice]:
        """Every voice of ``language``, the preferred synthesiser's first (the first is the
        default)."""
        return [voice for synthesizer in self.synthesizers for voice in synthesizer.voices(language)]

    def synthesizer_for(self, voice: Voice) -> Synthesizer:
        """The synthesiser whose voice it is."""
        for synthesizer in self.synthesizers:
            if voice in synthesizer.voices(voice.language):
                return synthesizer
        raise SynthesisError(f"no installed synthesiser has the voice {voice.voice_id!r}")


def load_models(settings: Settings) -> Models:
    """The adapters that ``settings`` ask for. One whose program is missing offers nothing
    (no pairs, no voices); without a Whisper model there is no recogniser."""
    return Models(
        recognizers=_recognizers(settings),
        translators=_translators(settings),
        synthesizers=(EspeakSynthesizer(),),
        language_identifier=Py3LangIdentifier(),
    )


def _recognizers(settings: Settings) -> tuple[Recognizer, ...]:
    model_dir = settings.whisper_model_dir or bundled_model_dir()
    if model_dir is None:
        return ()
    # The bundled model's sha256 is built in; an operator's model is checked only when they
    # give one.
    expected = settings.whisper_model_sha256 or (BUNDLED_SHA256 if settings.whisper_model_dir is None else None)
    threads = settings.recognition_threads or os.cpu_count() or 1
    return (WhisperRecognizer(model_dir, expected, threads),)


def _translators(settings: Settings) -> tuple[Translator, ...]:
    # The operator's endpoint replaces Apertium rather than joining it: its languages are
    # exactly those the operator configured.
    if settings.translation_openai_url:
        chat = ChatTranslator(
            settings.translation_openai_url,
            settings.translation_openai_model,
            settings.translation_openai_key,
            settings.translation_openai_languages,
            settings.translation_openai_timeout_seconds,
        )
        return (chat,)
    return (ApertiumTranslator(),)
