"""Video Translation (API.md section 4), as one typed thing: the request, the params a task
stores and its pipeline receives, prices, and the answers' shapes."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NotRequired, TypedDict

from pydantic import AliasChoices, Field, field_validator

from reelsmith.errors import Code
from reelsmith.products.common import (
    Body,
    JsonObject,
    Links,
    Owner,
    Product,
    credit_of,
    one_of,
    plain_integer,
    required_text,
    started_blocks,
)
from reelsmith.store.models import TaskRecord

NAME = "video_translation"
PRICE_PER_5S = 5
CAPTION_TYPES = (0, 1, 2, 3, 4)
# studio_voice.style: Akool's names; each voice speaks them (speech adapters map them).
STYLES = (
    "affectionate",
    "angry",
    "calm",
    "cheerful",
    "depressed",
    "disgruntled",
    "embarrassed",
    "empathetic",
    "excited",
    "fearful",
    "friendly",
    "unfriendly",
    "sad",
    "serious",
    "relaxed",
    "professional",
)


def price(seconds: float, lipsync: bool) -> int:
    """Per target language: ceil(seconds / 5) x 5 credits, doubled with lip-sync."""
    return started_blocks(seconds) * PRICE_PER_5S * (2 if lipsync else 1)


def locked_seconds(seconds: float) -> int:
    """``deduction_lock_duration``: the seconds charged for, in whole 5-second blocks."""
    return math.ceil(round(seconds, 3) / 5) * 5


# --- the request ------------------------------------------------------------------------------


class StudioVoiceRequest(Body):
    no_translate_words: list[str] = Field(default_factory=list)
    fixed_words: dict[str, str] = Field(default_factory=dict)
    pronounced_words: dict[str, str] = Field(default_factory=dict)
    style: str = "professional"

    @field_validator("style")
    @classmethod
    def _style(cls, value: str) -> str:
        return one_of(value, STYLES)  # type: ignore[no-any-return]


class VoiceChoice(Body):
    """One language's entry of ``voices_map``. An empty or missing ``voice_id`` means the
    language's default voice: Akool's demo sends ``{"voice_id": ""}`` for every language."""

    voice_id: str | None = ""


class TranslationRequest(Body):
    url: str = Field(description="Video URL (MP4 with audio)")
    language: str = Field(description="Target language codes, comma-separated")
    source_language: str = Field(default="DEFAULT", description="DEFAULT (detect) or a code")
    lipsync: bool = False
    speaker_num: int = Field(default=0, description="0 = detect; more speakers than voices reuse voices")
    remove_bgm: bool = False
    caption_type: int = Field(default=0, description="0-4, see API.md")
    caption_url: str = Field(default="", description="SRT or ASS that replaces recognition")
    studio_voice: StudioVoiceRequest | None = None
    dynamic_duration: bool = False
    voices_map: dict[str, VoiceChoice] | None = None
    merge_interval: Any = Field(default=None, description="Deprecated: accepted and ignored")
    face_enhance: Any = Field(default=None, description="Deprecated: accepted and ignored")
    webhookUrl: str = Field(default="", validation_alias=AliasChoices("webhookUrl", "webhookurl"))

    _text = field_validator("url", "language")(required_text)
    _numbers = field_validator("speaker_num", "caption_type", mode="before")(plain_integer)

    @field_validator("speaker_num")
    @classmethod
    def _speakers(cls, value: int) -> int:
        # Akool sets no maximum (API.md section 8); a video has at most as many speakers as lines.
        if value < 0:
            raise ValueError("must be 0 (detect) or more")
        return value

    @field_validator("caption_type")
    @classmethod
    def _caption_type(cls, value: int) -> int:
        return one_of(value, CAPTION_TYPES)  # type: ignore[no-any-return]

    def chosen_voices(self) -> dict[str, str]:
        """The voice asked for per language; languages left to their default are left out."""
        return {lang: choice.voice_id for lang, choice in (self.voices_map or {}).items() if choice.voice_id}


# --- what a task stores and its pipeline receives ---------------------------------------------


@dataclass(frozen=True)
class StudioVoiceParams:
    no_translate_words: tuple[str, ...] = ()
    fixed_words: Mapping[str, str] = field(default_factory=dict)
    pronounced_words: Mapping[str, str] = field(default_factory=dict)
    style: str = "professional"


@dataclass(frozen=True)
class TranslationParams:
    url: str
    language: str  # the one target of this task
    source_language: str = "DEFAULT"
    lipsync: bool = False
    speaker_num: int = 0
    remove_bgm: bool = False
    caption_type: int = 0
    caption_url: str = ""
    studio_voice: StudioVoiceParams = field(default_factory=StudioVoiceParams)
    dynamic_duration: bool = False
    voices: Mapping[str, str] = field(default_factory=dict)  # language -> voice_id
    video_lock_duration: float = 0.0  # the source's seconds
    deduction_lock_duration: int = 0

    def to_json(self) -> JsonObject:
        """As a task stores it (``voices_map`` in the request's shape, as tasks always have)."""
        studio = self.studio_voice
        return {
            "url": self.url,
            "language": self.language,
            "source_language": self.source_language,
            "lipsync": self.lipsync,
            "speaker_num": self.speaker_num,
            "remove_bgm": self.remove_bgm,
            "caption_type": self.caption_type,
            "caption_url": self.caption_url,
            "studio_voice": {
                "no_translate_words": list(studio.no_translate_words),
                "fixed_words": dict(studio.fixed_words),
                "pronounced_words": dict(studio.pronounced_words),
                "style": studio.style,
            },
            "dynamic_duration": self.dynamic_duration,
            "voices_map": {lang: {"voice_id": voice} for lang, voice in self.voices.items()},
            "video_lock_duration": self.video_lock_duration,
            "deduction_lock_duration": self.deduction_lock_duration,
        }

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> TranslationParams:
        studio = value.get("studio_voice") or {}
        voices_map = value.get("voices_map") or {}
        return cls(
            url=str(value.get("url", "")),
            language=str(value.get("language", "")),
            source_language=str(value.get("source_language") or "DEFAULT"),
            lipsync=bool(value.get("lipsync")),
            speaker_num=int(value.get("speaker_num") or 0),
            remove_bgm=bool(value.get("remove_bgm")),
            caption_type=int(value.get("caption_type") or 0),
            caption_url=str(value.get("caption_url") or ""),
            studio_voice=StudioVoiceParams(
                no_translate_words=tuple(studio.get("no_translate_words") or ()),
                fixed_words=dict(studio.get("fixed_words") or {}),
                pronounced_words=dict(studio.get("pronounced_words") or {}),
                style=studio.get("style") or "professional",
            ),
            dynamic_duration=bool(value.get("dynamic_duration")),
            voices={
                lang: str(choice["voice_id"])
                for lang, choice in voices_map.items()
                if isinstance(choice, Mapping) and choice.get("voice_id")
            },
            video_lock_duration=float(value.get("video_lock_duration") or 0.0),
            deduction_lock_duration=int(value.get("deduction_lock_duration") or 0),
        )


def params_of(task: TaskRecord) -> TranslationParams:
    return TranslationParams.from_json(task.params)


# --- answers ----------------------------------------------------------------------------------


class TranslationCreated(TypedDict):
    """A task in the create answer's ``data`` and ``all_results[].data``."""

    _id: str
    create_time: int
    uid: int
    team_id: str
    target_video: str  # the INPUT
    language: str
    source_language: str
    video_status: int
    video_lock_duration: float
    deduction_lock_duration: int
    deduction_credit: int
    video: str
    lipsync: bool
    speaker_num: int
    webhookUrl: str
    progress: int


class AudioSplits(TypedDict):
    original_srt_url: str
    translated_srt_url: str
    no_caption_video_url: str


class TranslationInfo(TranslationCreated):
    update_time: int
    deduction_duration: int
    audio_splits: AudioSplits
    error_code: NotRequired[int]
    error_reason: NotRequired[str]
    translation_report: NotRequired[JsonObject]


def created_view(task: TaskRecord, owner: Owner, links: Links) -> TranslationCreated:
    p = params_of(task)
    return TranslationCreated(
        _id=task.id,
        create_time=task.create_time,
        uid=owner.uid,
        team_id=owner.team_id,
        target_video=p.url,
        language=p.language,
        source_language=p.source_language,
        video_status=task.status,
        video_lock_duration=p.video_lock_duration,
        deduction_lock_duration=p.deduction_lock_duration,
        deduction_credit=credit_of(task),
        video=links(task, "video") if task.status == 3 else "",
        lipsync=p.lipsync,
        speaker_num=p.speaker_num,
        webhookUrl=task.webhook_url,
        progress=task.progress,
    )


def info_view(task: TaskRecord, owner: Owner, links: Links) -> TranslationInfo:
    created = created_view(task, owner, links)
    view = TranslationInfo(
        **created,
        update_time=task.update_time,
        deduction_duration=created["deduction_lock_duration"] if task.status == 3 else 0,
        audio_splits=AudioSplits(
            original_srt_url=links(task, "original_srt"),
            translated_srt_url=links(task, "translated_srt"),
            no_caption_video_url=links(task, "no_caption_video"),
        ),
    )
    if task.status == 4:
        view["error_code"] = task.error_code or int(Code.CREATE_FAILED)
        view["error_reason"] = task.fail_reason or ""
    if "translation_report" in task.result:
        view["translation_report"] = task.result["translation_report"]
    return view


PRODUCT = Product(
    name=NAME,
    engine="video-translation",
    title="Video Translation",
    webhook_type="video translate",
    pipeline="reelsmith.pipelines.video_translation:VideoTranslationPipeline",
    params_type=TranslationParams,
    info=info_view,
)
