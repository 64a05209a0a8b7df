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
