"""What the installed pipelines offer, typed: effects, models, target languages, voices, the
translation pairs and the languages speech recognition knows. Pipelines declare these; services
check requests against them; the API shows them in Akool's shapes (the ``*_view`` functions,
which add this server's links)."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypedDict

from reelsmith.languages import LANGUAGES

# Akool's effect entries carry a creation time; ours are as old as this catalog.
EFFECTS_CREATED_MS = 1795219200000


@dataclass(frozen=True)
class EffectEntry:
    code: str
    name: str
    category: str = ""
    description: str = ""
    # Whether the pipeline renders a thumbnail and a preview clip for it (Pipeline.render_preview).
    previews: bool = True
    # The engine that makes it (filled in by the registry from the pipeline that lists it): an
    # effect is made only by a model of its engine.
    engine: str = ""


@dataclass(frozen=True)
class ResolutionOption:
    name: str  # "720p"
    width: int
    height: int
    unit_credit: int  # credits for 5 s


@dataclass(frozen=True)
class ModelEntry:
    value: str  # the model_name requests give
    label: str
    description: str
    provider: str = "reelsmith"
    sort: int = 1
    generate_audio: bool = False
    resolutions: tuple[ResolutionOption, ...] = ()
    durations: tuple[int, ...] = (5, 10)
    max_count: int = 10
    supports_last_frame: bool = False
    is_pro: bool = False
    product: str = "image2video"  # the product whose model_name selects it
    # The engine (worker queue) that runs it, filled in by the registry from the pipeline that
    # lists it: choosing a model chooses where the task runs.
    engine: str = ""
    modes: tuple[str, ...] = ()  # Character Swap: the modes it runs (empty: every mode)


@dataclass(frozen=True)
class LanguageEntry:
    """A target language: one the installed engines can translate into and speak."""

    code: str
    has_voices: bool = True

    @property
    def name(self) -> str:
        return LANGUAGES.get(self.code, self.code)


@dataclass(frozen=True)
class VoiceEntry:
    voice_id: str
    language: str  # a code
    name: str
    gender: str  # "Male" or "Female"
    age: tuple[str, ...] = ("Adult",)
    scenario: tuple[str, ...] = ("Dubbing", "Narration")
    styles: tuple[str, ...] = ()  # the studio_voice styles it speaks


@dataclass(frozen=True)
class TranslationPair:
    source: str
    target: str


@dataclass(frozen=True)
class Catalog:
    """Everything one pipeline (or all of them, merged) offers."""

    effects: tuple[EffectEntry, ...] = ()
    models: tuple[ModelEntry, ...] = ()
    languages: tuple[LanguageEntry, ...] = ()
    voices: tuple[VoiceEntry, ...] = ()
    translation_pairs: tuple[TranslationPair, ...] = ()
    # None: no recognition engine says which (everything is allowed); else the codes it knows.
    recognition_languages: frozenset[str] | None = None

    def of_engine(self, engine: str) -> Catalog:
        """This catalog with its effects and models marked as ``engine``'s where they say nothing."""
        return dataclasses.replace(
            self,
            effects=tuple(e if e.engine else dataclasses.replace(e, engine=engine) for e in self.effects),
            models=tuple(m if m.engine else dataclasses.replace(m, engine=engine) for m in self.models),
        )

    def models_of(self, product: str) -> tuple[ModelEntry, ...]:
        return tuple(model for model in self.models if model.product == product)

    @staticmethod
    def merged(catalogs: Iterable[Catalog]) -> Catalog:
        parts = list(catalogs)
        recognised = [c.recognition_languages for c in parts if c.recognition_languages is not None]
        return Catalog(
            effects=tuple(e for c in parts for e in c.effects),
            models=tuple(m for c in parts for m in c.models),
            languages=tuple(lang for c in parts for lang in c.languages),
            voices=tuple(v for c in parts for v in c.voices),
            translation_pairs=tuple(p for c in parts for p in c.translation_pairs),
            recognition_languages=frozenset().union(*recognised) if recognised else None,
        )

    def effect(self, code: str) -> EffectEntry | None:
        return next((effect for effect in self.effects if effect.code == code), None)

    def model(self, value: str, product: str = "image2video") -> ModelEntry | None:
        return next((m for m in self.models if m.value == value and m.product == product), None)

    def voice(self, language: str, voice_id: str) -> VoiceEntry | None:
        return next((v for v in self.voices if v.language == language and v.voice_id == voice_id), None)


# --- Akool's shapes ---------------------------------------------------------------------------


class EffectView(TypedDict):
    _id: str
    name: str
    effect_code: str
    logo: str  # thumbnail URL
    video_url: str  # preview URL
    create_time: int
    category: str
    description: str


class ResolutionView(TypedDict):
    label: str
    value: str
    width: int
    height: int
    unit_credit: int


class ModelView(TypedDict):
    value: str
    label: str
    description: str
    provider: str
    sort: int
    generate_audio: bool
    resolutionList: list[ResolutionView]
    durationList: list[int]
    maxCount: int
    supportedLastFrame: bool
    isPro: bool


class LanguageView(TypedDict):
    lang_code: str
    lang_name: str
    url: str  # a badge of the language (Akool: a flag icon)
    flag_url: str
    need_voice_id: bool  # what makes Akool's demo offer its voice picker


class VoiceView(TypedDict):
    _id: str
    voice_id: str
    gender: str
    language: str  # its name
    name: str
    preview: str  # an MP3 of the voice
    language_code: str
    thumbnailUrl: str
    flag_url: str
    age: list[str]
    style: list[str]
    scenario: list[str]


def _root(base_url: str) -> str:
    return base_url.rstrip("/") + "/api/reelsmith/v1"


def effect_view(effect: EffectEntry, base_url: str) -> EffectView:
    root = _root(base_url)
    return EffectView(
        _id=hashlib.sha1(f"effect:{effect.code}".encode()).hexdigest()[:24],
        name=effect.name,
        effect_code=effect.code,
        logo=f"{root}/effects/{effect.code}/thumbnail.jpg" if effect.previews else "",
        video_url=f"{root}/effects/{effect.code}/preview.mp4" if effect.previews else "",
        create_time=EFFECTS_CREATED_MS,
        category=effect.category,
        description=effect.description,
    )


def model_view(model: ModelEntry) -> ModelView:
    return ModelView(
        value=model.value,
        label=model.label,
        description=model.description,
        provider=model.provider,
        sort=model.sort,
        generate_audio=model.generate_audio,
        resolutionList=[
            ResolutionView(label=r.name, value=r.name, width=r.width, height=r.height, unit_credit=r.unit_credit)
            for r in model.resolutions
        ],
        durationList=list(model.durations),
        maxCount=model.max_count,
        supportedLastFrame=model.supports_last_frame,
        isPro=model.is_pro,
    )


class InstalledModelView(ModelView):
    """A model in reelsmith's own list (every product's): where it runs and what it does."""

    product: str
    engine: str
    modes: list[str]


def installed_model_view(model: ModelEntry) -> InstalledModelView:
    return InstalledModelView(**model_view(model), product=model.product, engine=model.engine, modes=list(model.modes))


def language_badge_url(code: str, base_url: str) -> str:
    return f"{_root(base_url)}/languages/{code}/badge.svg"


def language_view(language: LanguageEntry, base_url: str) -> LanguageView:
    badge = language_badge_url(language.code, base_url)
    return LanguageView(
        lang_code=language.code,
        lang_name=language.name,
        url=badge,
        flag_url=badge,
        need_voice_id=language.has_voices,
    )


def voice_view(voice: VoiceEntry, base_url: str) -> VoiceView:
    root = _root(base_url)
    return VoiceView(
        _id=voice.voice_id,
        voice_id=voice.voice_id,
        gender=voice.gender,
        language=LANGUAGES.get(voice.language, voice.language),
        name=voice.name,
        preview=f"{root}/voices/{voice.voice_id}/preview.mp3",
        language_code=voice.language,
        thumbnailUrl=f"{root}/voices/{voice.voice_id}/thumbnail.svg",
        flag_url=language_badge_url(voice.language, base_url),
        age=list(voice.age),
        style=list(voice.styles),
        scenario=list(voice.scenario),
    )
