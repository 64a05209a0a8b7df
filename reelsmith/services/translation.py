"""Creating Video Translation tasks: one per target language (API.md section 4)."""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass, field
from typing import Any

from reelsmith.errors import ApiError, Code
from reelsmith.languages import LANGUAGES
from reelsmith.runtime import Runtime
from reelsmith.services.accounts import Caller
from reelsmith.services.inputs import InputBatch
from reelsmith.services.pricing import translation_price
from reelsmith.services.tasks import NewTask, checked_webhook
from reelsmith.store.models import TaskRecord

PRODUCT = "video_translation"
ENGINE = "video-translation"


@dataclass(frozen=True)
class TranslationOrder:
    url: str
    language: str
    source_language: str = "DEFAULT"
    lipsync: bool = False
    speaker_num: int = 0
    remove_bgm: bool = False
    caption_type: int = 0
    caption_url: str = ""
    studio_voice: dict[str, Any] | None = None
    dynamic_duration: bool = False
    voices_map: dict[str, Any] | None = field(default=None)
    webhookUrl: str = ""


def _target_languages(runtime: Runtime, value: str, source: str) -> list[str]:
    codes = list(dict.fromkeys(code.strip() for code in value.split(",") if code.strip()))
    if not codes:
        raise ApiError(Code.PARAMETER, "language must name at least one language code")
    offered = {entry["lang_code"] for entry in runtime.registry.catalog("languages")}
    for code in codes:
        if code not in LANGUAGES:
            raise ApiError(
                Code.PARAMETER, f"language {code!r} is not a known language code; see /api/open/v3/language/list"
            )
        if offered and code not in offered:
            raise ApiError(
                Code.PARAMETER,
                f"language {code!r} is not offered by the installed engines; see /api/open/v3/language/list",
            )
        if code == source:
            raise ApiError(Code.PARAMETER, f"language {code!r} is the same as source_language")
    return codes


def _check_engines_can(runtime: Runtime, order: TranslationOrder, languages: list[str]) -> None:
    """Refuse what the installed engines cannot do, before anything is fetched or charged."""
    if order.caption_type == 3 and not order.caption_url:
        raise ApiError(
            Code.PARAMETER,
            "caption_type 3 needs caption_url: the SRT or ASS file of the on-screen subtitles tells "
            "where and when they are shown, so that they can be replaced",
        )
    source = order.source_language
    if source != "DEFAULT" and not order.caption_url:
        recognisable = {entry["lang_code"] for entry in runtime.registry.catalog("recognition_languages")}
        if recognisable and source not in recognisable:
            raise ApiError(
                Code.PARAMETER,
                f"source_language {source!r} cannot be recognised by the installed speech recognition model "
                f"(it knows {', '.join(sorted(recognisable))}); send caption_url with what is said",
            )
    pairs = {(entry["source"], entry["target"]) for entry in runtime.registry.catalog("translation_pairs")}
    if source != "DEFAULT" and pairs:
        for target in languages:
            if (source, target) not in pairs:
                raise ApiError(
                    Code.PARAMETER,
                    f"language {target!r}: the installed translation engine cannot translate from {source!r} into it",
                )
    voices = {(entry["language_code"], entry["voice_id"]) for entry in runtime.registry.catalog("voices")}
    for language, choice in (order.voices_map or {}).items():
        voice_id = choice.get("voice_id") if isinstance(choice, dict) else None
        # An empty voice_id asks for the default voice (Akool's demo sends one for every language).
        if voice_id and language in languages and voices and (language, voice_id) not in voices:
            raise ApiError(
                Code.PARAMETER,
                f"voices_map.{language}.voice_id {voice_id!r} is not a voice of {language!r}; "
                "see /api/open/v4/voice/videoTranslation",
            )


async def create_translation(
    runtime: Runtime, caller: Caller, order: TranslationOrder, base_url: str = ""
) -> list[TaskRecord]:
    """Validate and fetch the video (audio, length, fps, size), then one charged task per
    target language, created all together or not at all."""
    if order.source_language != "DEFAULT" and order.source_language not in LANGUAGES:
        raise ApiError(
            Code.PARAMETER, f"source_language {order.source_language!r} must be DEFAULT or a known language code"
        )
    languages = _target_languages(runtime, order.language, order.source_language)
    _check_engines_can(runtime, order, languages)
    webhook_url = checked_webhook(order.webhookUrl, "webhookUrl", runtime.settings.allowed_networks)
    settings = runtime.settings
    async with InputBatch(runtime) as inputs:
        _, info = await inputs.video(
            "video",
            order.url,
            "url",
            max_seconds=settings.translation_max_seconds,
            max_fps=settings.translation_max_fps,
            require_audio=True,
        )
        if order.caption_url:
            await inputs.caption("captions", order.caption_url, "caption_url")
        seconds = round(info.duration, 3)
        originals = dict(inputs.stored)
        new_tasks = []
        for index, language in enumerate(languages):
            # Each language's task owns its inputs: deleting one task must not break another.
            files = originals if index == 0 else await inputs.duplicate(originals)
            new_tasks.append(
                NewTask(
                    product=PRODUCT,
                    engine=ENGINE,
                    params={
                        "url": order.url,
                        "language": language,
                        "source_language": order.source_language,
                        "lipsync": order.lipsync,
                        "speaker_num": order.speaker_num,
                        "remove_bgm": order.remove_bgm,
                        "caption_type": order.caption_type,
                        "caption_url": order.caption_url,
                        "studio_voice": order.studio_voice or {},
                        "dynamic_duration": order.dynamic_duration,
                        "voices_map": order.voices_map or {},
                        "video_lock_duration": seconds,
                        "deduction_lock_duration": math.ceil(round(seconds, 3) / 5) * 5,
                    },
                    inputs=files,
                    price=translation_price(seconds, order.lipsync),
                    webhook_url=webhook_url,
                )
            )
        return await asyncio.to_thread(runtime.tasks.create, caller, new_tasks, base_url)
