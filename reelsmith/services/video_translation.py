"""Creating Video Translation tasks: one per target language (API.md section 4)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from reelsmith.errors import ApiError, Code
from reelsmith.inputs.batch import InputBatch, InputSources
from reelsmith.inputs.fetch import checked_webhook
from reelsmith.languages import LANGUAGES
from reelsmith.products import video_translation as product
from reelsmith.products.catalog import Catalog
from reelsmith.products.video_translation import StudioVoiceParams, TranslationParams, TranslationRequest
from reelsmith.services.accounts import Caller
from reelsmith.services.tasks import NewTask, TaskService
from reelsmith.store.models import TaskRecord


@dataclass(frozen=True)
class TranslationService:
    catalog: Callable[[], Catalog]
    tasks: TaskService
    inputs: InputSources

    async def create(self, caller: Caller, request: TranslationRequest, base_url: str = "") -> list[TaskRecord]:
        """Validate and fetch the video (audio, length, fps, size), then one charged task per
        target language, created all together or not at all."""
        async with self.inputs.batch() as inputs:
            new_tasks = await self.plan(caller, request, inputs)
            return await asyncio.to_thread(self.tasks.create, caller, new_tasks, base_url)

    async def plan(self, caller: Caller, request: TranslationRequest, inputs: InputBatch) -> list[NewTask]:
        """What a create does before it charges: every check, the video fetched into ``inputs``,
        each language's task priced. A quote runs it too, so it refuses what a create refuses, in
        the same words."""
        source = request.source_language
        if source != "DEFAULT" and source not in LANGUAGES:
            raise ApiError(Code.PARAMETER, f"source_language {source!r} must be DEFAULT or a known language code")
        catalog = self.catalog()
        languages = _target_languages(catalog, request.language, source)
        _check_engines_can(catalog, request, languages)
        settings = self.inputs.settings
        webhook_url = checked_webhook(request.webhookUrl, "webhookUrl", settings.allowed_networks)
        studio = request.studio_voice
        studio_voice = (
            StudioVoiceParams(
                no_translate_words=tuple(studio.no_translate_words),
                fixed_words=dict(studio.fixed_words),
                pronounced_words=dict(studio.pronounced_words),
                style=studio.style,
            )
            if studio is not None
            else StudioVoiceParams()
        )
        _, info = await inputs.video(
            "video",
            request.url,
            "url",
            max_seconds=settings.translation_max_seconds,
            max_fps=settings.translation_max_fps,
            require_audio=True,
        )
        if request.caption_url:
            await inputs.caption("captions", request.caption_url, "caption_url")
        seconds = round(info.duration, 3)
        originals = dict(inputs.stored)
        new_tasks = []
        for index, language in enumerate(languages):
            # Each language's task owns its inputs: deleting one task must not break another.
            files = originals if index == 0 else await inputs.duplicate(originals)
            params = TranslationParams(
                url=request.url,
                language=language,
                source_language=source,
                lipsync=request.lipsync,
                speaker_num=request.speaker_num,
                remove_bgm=request.remove_bgm,
                caption_type=request.caption_type,
                caption_url=request.caption_url,
                studio_voice=studio_voice,
                dynamic_duration=request.dynamic_duration,
                voices=request.chosen_voices(),
                video_lock_duration=seconds,
                deduction_lock_duration=product.locked_seconds(seconds),
            )
            new_tasks.append(
                NewTask(
                    product=product.PRODUCT,
                    params=params,
                    inputs=files,
                    price=product.price(seconds, request.lipsync),
                    webhook_url=webhook_url,
                )
            )
        return new_tasks


def _target_languages(catalog: Catalog, value: str, source: str) -> list[str]:
    codes = list(dict.fromkeys(code.strip() for code in value.split(",") if code.strip()))
    if not codes:
        raise ApiError(Code.PARAMETER, "language must name at least one language code")
    offered = {entry.code for entry in catalog.languages}
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


def _check_engines_can(catalog: Catalog, request: TranslationRequest, languages: list[str]) -> None:
    """Refuse what the installed engines cannot do, before anything is fetched or charged."""
    if request.caption_type == 3 and not request.caption_url:
        raise ApiError(
            Code.PARAMETER,
            "caption_type 3 needs caption_url: the SRT or ASS file of the on-screen subtitles tells "
            "where and when they are shown, so that they can be replaced",
        )
    source = request.source_language
    recognisable = catalog.recognition_languages
    if source != "DEFAULT" and not request.caption_url and recognisable and source not in recognisable:
        raise ApiError(
            Code.PARAMETER,
            f"source_language {source!r} cannot be recognised by the installed speech recognition model "
            f"(it knows {', '.join(sorted(recognisable))}); send caption_url with what is said",
        )
    pairs = {(pair.source, pair.target) for pair in catalog.translation_pairs}
    if source != "DEFAULT" and pairs:
        for target in languages:
            if (source, target) not in pairs:
                raise ApiError(
                    Code.PARAMETER,
                    f"language {target!r}: the installed translation engine cannot translate from {source!r} into it",
                )
    for language, voice_id in request.chosen_voices().items():
        # An empty voice_id asks for the default voice (Akool's demo sends one for every language).
        if language in languages and catalog.voices and catalog.voice(language, voice_id) is None:
            raise ApiError(
                Code.PARAMETER,
                f"voices_map.{language}.voice_id {voice_id!r} is not a voice of {language!r}; "
                "see /api/open/v4/voice/videoTranslation",
            )
