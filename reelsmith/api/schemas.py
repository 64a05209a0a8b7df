"""Request bodies, as Akool's clients send them (aliases, numeric strings and all).

Validators raise ``ValueError("must be ...")``; the error handler prefixes the field name, so a
client reads ``"resolution must be one of 480p, 720p, 1080p"``.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator, model_validator

PROMPT_MAX = 500
# Akool's image-to-video demo sends a 597-character negative prompt by default (API.md section 5).
NEGATIVE_PROMPT_MAX = 2000
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


_PLAIN_NUMBER = re.compile(r"^\s*-?[0-9]+(\.[0-9]+)?\s*$")
_PLAIN_INTEGER = re.compile(r"^\s*-?[0-9]+\s*$")


def _plain_number(value: Any) -> Any:
    """Numbers may come as JSON numbers or numeric strings ("3.5"), never as booleans or
    Python-only spellings like "1_0"."""
    if isinstance(value, bool) or (isinstance(value, str) and not _PLAIN_NUMBER.match(value)):
        raise ValueError("must be a number")
    return value


def _plain_integer(value: Any) -> Any:
    """As :func:`_plain_number`, for whole numbers ("2" as a string is fine, as Akool's
    clients send ``audio_type``)."""
    if isinstance(value, bool) or (isinstance(value, str) and not _PLAIN_INTEGER.match(value)):
        raise ValueError("must be an integer")
    return value


def _one_of(value: Any, choices: tuple[Any, ...]) -> Any:
    if value not in choices:
        raise ValueError("must be one of " + ", ".join(str(c) for c in choices))
    return value


def _required_text(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        raise ValueError("must not be empty")
    return value


def _at_most(limit: int) -> Any:
    def check(value: Any) -> Any:
        if isinstance(value, str) and len(value) > limit:
            raise ValueError(f"must be at most {limit} characters (got {len(value)})")
        return value

    return check


_prompt = _at_most(PROMPT_MAX)


def _webhook_field() -> Any:
    return Field(default="", validation_alias=AliasChoices("webhookurl", "webhookUrl"), description="Webhook URL")


class _Body(BaseModel):
    # Unknown fields are ignored: Akool's clients send fields we do not use.
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class CharacterSwapRequest(_Body):
    image: str = Field(
        validation_alias=AliasChoices("image", "image_url"), description="Character image URL (PNG/JPEG)"
    )
    video: str = Field(validation_alias=AliasChoices("video", "video_url"), description="Source video URL (MP4)")
    duration: float | None = Field(default=None, description="Seconds of the source to use, 1-120")
    resolution: str = Field(default="720p", description="480p, 720p or 1080p (short side)")
    mode: str = Field(default="animate", description="animate or replace")
    prompt: str = Field(default="", description=f"At most {PROMPT_MAX} characters")
    webhookurl: str = _webhook_field()

    _text = field_validator("image", "video")(_required_text)
    _prompt_length = field_validator("prompt")(_prompt)
    _numbers = field_validator("duration", mode="before")(_plain_number)

    @field_validator("duration")
    @classmethod
    def _duration(cls, value: float | None) -> float | None:
        if value is not None and not 1 <= value <= 120:
            raise ValueError("must be between 1 and 120 seconds")
        return value

    @field_validator("resolution")
    @classmethod
    def _resolution(cls, value: str) -> str:
        return _one_of(value, ("480p", "720p", "1080p"))

    @field_validator("mode")
    @classmethod
    def _mode(cls, value: str) -> str:
        return _one_of(value, ("animate", "replace"))


class StudioVoice(_Body):
    no_translate_words: list[str] = Field(default_factory=list)
    fixed_words: dict[str, str] = Field(default_factory=dict)
    pronounced_words: dict[str, str] = Field(default_factory=dict)
    style: str = "professional"

    @field_validator("style")
    @classmethod
    def _style(cls, value: str) -> str:
        return _one_of(value, STYLES)


class VoiceChoice(_Body):
    """One language's entry of ``voices_map``. An empty or missing ``voice_id`` means the
    language's default voice: Akool's demo sends ``{"voice_id": ""}`` for every language."""

    voice_id: str | None = ""


class TranslationRequest(_Body):
    url: str = Field(description="Video URL (MP4 with audio)")
    language: str = Field(description="Target language codes, comma-separated")
    source_language: str = Field(default="DEFAULT", description="DEFAULT (detect) or a code")
    lipsync: bool = False
    speaker_num: int = Field(default=0, description="0 = detect; more speakers than voices reuse voices")
    remove_bgm: bool = False
    caption_type: int = Field(default=0, description="0-4, see API.md")
    caption_url: str = Field(default="", description="SRT or ASS that replaces recognition")
    studio_voice: StudioVoice | None = None
    dynamic_duration: bool = False
    voices_map: dict[str, VoiceChoice] | None = None
    merge_interval: Any = Field(default=None, description="Deprecated: accepted and ignored")
    face_enhance: Any = Field(default=None, description="Deprecated: accepted and ignored")
    webhookUrl: str = Field(default="", validation_alias=AliasChoices("webhookUrl", "webhookurl"))

    _text = field_validator("url", "language")(_required_text)
    _numbers = field_validator("speaker_num", "caption_type", mode="before")(_plain_integer)

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
        return _one_of(value, (0, 1, 2, 3, 4))


class Image2VideoRequest(_Body):
    image_url: str = Field(description="The first frame (PNG/JPEG)")
    prompt: str = Field(default="", description="The motion wanted; required unless effect_code is set")
    negative_prompt: str = Field(default="", description=f"At most {NEGATIVE_PROMPT_MAX} characters")
    extend_prompt: bool = False
    # Required in Akool's docs, but a published client sends only image_url and prompt.
    resolution: str = Field(default="720p", description="720p, 1080p or 4k")
    video_length: int = Field(default=5, description="5 or 10 seconds")
    audio_type: int = Field(default=3, description="1 generated, 2 audio_url, 3 none")
    audio_url: str = ""
    effect_code: str = ""
    is_premium_model: bool = Field(default=False, description="A premium model, where one is installed (Pro)")
    webhookurl: str = _webhook_field()

    _text = field_validator("image_url")(_required_text)
    _prompt_length = field_validator("prompt")(_prompt)
    _negative_length = field_validator("negative_prompt")(_at_most(NEGATIVE_PROMPT_MAX))
    _numbers = field_validator("video_length", "audio_type", mode="before")(_plain_integer)

    @field_validator("resolution")
    @classmethod
    def _resolution(cls, value: str) -> str:
        return _one_of(value, ("720p", "1080p", "4k"))

    @field_validator("video_length")
    @classmethod
    def _length(cls, value: int) -> int:
        return _one_of(value, (5, 10))

    @field_validator("audio_type")
    @classmethod
    def _audio_type(cls, value: int) -> int:
        return _one_of(value, (1, 2, 3))

    @model_validator(mode="after")
    def _dependencies(self) -> Image2VideoRequest:
        if not self.effect_code and not self.prompt.strip():
            raise ValueError("prompt is required when no effect_code is given")
        if self.audio_type == 2 and not self.audio_url.strip():
            raise ValueError("audio_url is required when audio_type is 2")
        return self


class Image2VideoBatchRequest(Image2VideoRequest):
    model_name: str = ""
    last_image_url: str = ""
    count: int = Field(default=1, description="1-10 variations")

    _count_number = field_validator("count", mode="before")(_plain_integer)

    @field_validator("count")
    @classmethod
    def _count(cls, value: int) -> int:
        if not 1 <= value <= 10:
            raise ValueError("must be between 1 and 10")
        return value


class UpdateVideoAudioRequest(_Body):
    pre_video_id: str = Field(description="_id of a finished Image to Video task")
    audio_type: int = Field(description="1 generated, 2 audio_url")
    audio_url: str = ""
    webhookurl: str = _webhook_field()

    _text = field_validator("pre_video_id")(_required_text)
    _numbers = field_validator("audio_type", mode="before")(_plain_integer)

    @field_validator("audio_type")
    @classmethod
    def _audio_type(cls, value: int) -> int:
        return _one_of(value, (1, 2))

    @model_validator(mode="after")
    def _dependencies(self) -> UpdateVideoAudioRequest:
        if self.audio_type == 2 and not self.audio_url.strip():
            raise ValueError("audio_url is required when audio_type is 2")
        return self


def _split_ids(value: Any) -> Any:
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        value = ",".join(value)
    if isinstance(value, str):
        ids = [part.strip() for part in value.split(",") if part.strip()]
        if not ids:
            raise ValueError("must list at least one id")
        if len(ids) > 100:
            raise ValueError("must list at most 100 ids")
        return ids
    return value


class IdsRequest(_Body):
    ids: list[str] = Field(alias="_ids", description="Comma-separated ids (a list is accepted too)")

    _split = field_validator("ids", mode="before")(_split_ids)


class TokenRequest(_Body):
    clientId: Any = None
    clientSecret: Any = None
