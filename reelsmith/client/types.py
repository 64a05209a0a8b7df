"""Typed answers of Akool's open API and of reelsmith's extensions.

Field names are Akool's in snake case, with ``_id`` as ``id`` and ``webhookUrl`` as
``webhook_url``. Every result keeps the object it was read from in ``raw``, for the fields
that are not typed here. One of Akool's quirks is smoothed over on purpose: the finished
video's URL is ``video`` in ``infobymodelid``, ``video_url`` in ``resultsByIds`` and ``url`` in a
webhook, and :class:`TaskInfo` calls it ``result_url`` whichever answer it came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

from reelsmith.client._json import Fields, JsonObject


class TaskStatus(IntEnum):
    """A task's ``status`` / ``video_status`` (plain ints compare equal to these)."""

    QUEUED = 1
    PROCESSING = 2
    COMPLETED = 3
    FAILED = 4


def _is_finished(status: int) -> bool:
    return status in (TaskStatus.COMPLETED, TaskStatus.FAILED)


@dataclass(frozen=True)
class CharacterSwapTask:
    """A Character Swap task as ``characterSwap/create`` answers it. ``video_url`` is the INPUT
    here (the result comes from :meth:`Client.info` / :meth:`Client.wait`)."""

    id: str
    status: int
    create_time: int
    uid: int
    team_id: str
    video_duration: float
    deduction_credit: float
    resolution: str
    file_name: str
    image_url: str
    video_url: str
    prompt: str
    mode: str
    model_name: str
    webhook_url: str
    raw: JsonObject = field(repr=False)

    @classmethod
    def read(cls, data: Fields) -> CharacterSwapTask:
        """From the answer's ``data``."""
        return cls(
            id=data.text("_id"),
            status=data.integer("status", "video_status"),
            create_time=data.integer("create_time"),
            uid=data.integer("uid"),
            team_id=data.text("team_id"),
            video_duration=data.number("video_duration"),
            deduction_credit=data.number("deduction_credit"),
            resolution=data.text("resolution"),
            file_name=data.text("file_name"),
            image_url=data.text("image_url"),
            video_url=data.text("video_url"),
            prompt=data.text("prompt"),
            mode=data.text("mode"),
            model_name=data.text("model_name"),
            webhook_url=data.text("webhookUrl", "webhookurl"),
            raw=data.raw,
        )


@dataclass(frozen=True)
class TranslationTask:
    """One target language's Video Translation task, as ``createbytranslate`` answers it.
    ``target_video`` is the INPUT; ``video`` is empty until the task is done."""

    id: str
    status: int
    create_time: int
    uid: int
    team_id: str
    target_video: str
    language: str
    source_language: str
    video_lock_duration: float
    deduction_lock_duration: float
    deduction_credit: float
    video: str
    lipsync: bool
    speaker_num: int
    webhook_url: str
    progress: int
    raw: JsonObject = field(repr=False)

    @classmethod
    def read(cls, data: Fields) -> TranslationTask:
        """From ``data`` or an ``all_results[].data``."""
        return cls(
            id=data.text("_id"),
            status=data.integer("video_status", "status"),
            create_time=data.integer("create_time"),
            uid=data.integer("uid"),
            team_id=data.text("team_id"),
            target_video=data.text("target_video"),
            language=data.text("language"),
            source_language=data.text("source_language"),
            video_lock_duration=data.number("video_lock_duration"),
            deduction_lock_duration=data.number("deduction_lock_duration"),
            deduction_credit=data.number("deduction_credit"),
            video=data.text("video"),
            lipsync=data.flag("lipsync"),
            speaker_num=data.integer("speaker_num"),
            webhook_url=data.text("webhookUrl", "webhookurl"),
            progress=data.integer("progress"),
            raw=data.raw,
        )


@dataclass(frozen=True)
class Image2VideoTask:
    """An Image to Video task, as the create answers and ``resultsByIds`` show it.
    ``video_url`` is the OUTPUT here (empty until status 3), ``cover_url`` a poster frame."""

    id: str
    status: int
    create_time: int
    update_time: int
    uid: int
    team_id: str
    webhook_url: str
    resolution: str
    file_name: str
    effect_name: str
    effect_code: str
    image_url: str
    prompt: str
    negative_prompt: str
    extend_prompt: bool
    audio_type: int
    audio_url: str
    deduction_credit: float
    model_name: str
    batch_id: str
    batch_count: int
    video_duration: float
    video_url: str
    cover_url: str
    only_add_audio: bool
    progress: int
    error_reason: str
    raw: JsonObject = field(repr=False)

    @classmethod
    def read(cls, data: Fields) -> Image2VideoTask:
        """From a create answer's ``data``, a ``successList`` item or a ``result`` item."""
        return cls(
            id=data.text("_id"),
            status=data.integer("status", "video_status"),
            create_time=data.integer("create_time"),
            update_time=data.integer("update_time"),
            uid=data.integer("uid"),
            team_id=data.text("team_id"),
            webhook_url=data.text("webhookUrl", "webhookurl"),
            resolution=data.text("resolution"),
            file_name=data.text("file_name"),
            effect_name=data.text("effect_name"),
            effect_code=data.text("effect_code"),
            image_url=data.text("image_url"),
            prompt=data.text("prompt"),
            negative_prompt=data.text("negative_prompt"),
            extend_prompt=data.flag("extend_prompt"),
            audio_type=data.integer("audio_type"),
            audio_url=data.text("audio_url"),
            deduction_credit=data.number("deduction_credit"),
            model_name=data.text("model_name"),
            batch_id=data.text("batch_id"),
            batch_count=data.integer("batch_count"),
            video_duration=data.number("video_duration"),
            video_url=data.text("video_url"),
            cover_url=data.text("cover_url"),
            only_add_audio=data.flag("only_add_audio"),
            progress=data.integer("progress"),
            error_reason=data.text("error_reason"),
            raw=data.raw,
        )

    @property
    def finished(self) -> bool:
        """Status 3 (completed) or 4 (failed)."""
        return _is_finished(self.status)


@dataclass(frozen=True)
class BatchFailure:
    """One variation of a batch that could not be created (``errorList``)."""

    message: str
    raw: JsonObject = field(repr=False)


@dataclass(frozen=True)
class Image2VideoBatch:
    """The answer of ``createBySourcePrompt/batch``: the tasks made, and those refused."""

    tasks: list[Image2VideoTask]
    failures: list[BatchFailure]


@dataclass(frozen=True)
class AudioSplits:
    """A Video Translation's side files (empty until the task is done)."""

    original_srt_url: str
    translated_srt_url: str
    no_caption_video_url: str


@dataclass(frozen=True)
class TaskInfo:
    """A task's state as ``infobymodelid`` shows it, for any product (``wait`` returns this).

    ``result_url`` is the finished video (``video`` in ``infobymodelid``); ``failure_reason``
    is ``faceswap_fail_reason`` or ``error_reason``, whichever the product uses."""

    id: str
    status: int
    progress: int
    result_url: str
    failure_reason: str
    error_code: int | None
    deduction_credit: float
    video_duration: float
    create_time: int
    update_time: int
    webhook_url: str
    cover_url: str
    audio_splits: AudioSplits | None
    raw: JsonObject = field(repr=False)

    @classmethod
    def read(cls, data: Fields) -> TaskInfo:
        """From an ``infobymodelid`` answer's ``data``."""
        splits = data.object("audio_splits")
        return cls(
            id=data.text("_id"),
            status=data.integer("video_status", "status"),
            progress=data.integer("progress"),
            result_url=data.text("video"),
            failure_reason=data.text("faceswap_fail_reason", "error_reason"),
            error_code=data.optional_integer("error_code"),
            deduction_credit=data.number("deduction_credit"),
            video_duration=data.number("video_duration"),
            create_time=data.integer("create_time"),
            update_time=data.integer("update_time"),
            webhook_url=data.text("webhookUrl", "webhookurl"),
            cover_url=data.text("cover_url"),
            audio_splits=(
                AudioSplits(
                    original_srt_url=splits.text("original_srt_url"),
                    translated_srt_url=splits.text("translated_srt_url"),
                    no_caption_video_url=splits.text("no_caption_video_url"),
                )
                if data.has("audio_splits")
                else None
            ),
            raw=data.raw,
        )

    @classmethod
    def of_image2video(cls, task: Image2VideoTask) -> TaskInfo:
        """The same view of an Image to Video task read from ``resultsByIds``."""
        return cls(
            id=task.id,
            status=task.status,
            progress=task.progress,
            result_url=task.video_url,
            failure_reason=task.error_reason,
            error_code=Fields(task.raw).optional_integer("error_code"),
            deduction_credit=task.deduction_credit,
            video_duration=task.video_duration,
            create_time=task.create_time,
            update_time=task.update_time,
            webhook_url=task.webhook_url,
            cover_url=task.cover_url,
            audio_splits=None,
            raw=task.raw,
        )

    @property
    def finished(self) -> bool:
        """Status 3 (completed) or 4 (failed)."""
        return _is_finished(self.status)


@dataclass(frozen=True)
class Refusal:
    """A task that was not deleted (``noPermissionItems``), e.g. one still processing."""

    id: str
    msg: str


@dataclass(frozen=True)
class Deletion:
    """The answer of ``delbyids``: the ids deleted, and why the others were not."""

    deleted_ids: list[str]
    refused: list[Refusal]


@dataclass(frozen=True)
class Effect:
    """A named Image to Video effect (``effect_code`` goes into a create request)."""

    id: str
    name: str
    effect_code: str
    logo: str
    video_url: str
    create_time: int
    category: str
    description: str

    @classmethod
    def read(cls, data: Fields) -> Effect:
        """From an ``effects`` ``result`` item."""
        return cls(
            id=data.text("_id"),
            name=data.text("name"),
            effect_code=data.text("effect_code"),
            logo=data.text("logo"),
            video_url=data.text("video_url"),
            create_time=data.integer("create_time"),
            category=data.text("category"),
            description=data.text("description"),
        )


@dataclass(frozen=True)
class ModelResolution:
    """A resolution a video model makes, and its price per 5 s."""

    label: str
    value: str
    width: int
    height: int
    unit_credit: float


@dataclass(frozen=True)
class VideoModel:
    """An installed model (``aigModel/list``, and reelsmith's ``models`` with ``product``,
    ``engine`` and ``modes`` filled in). ``value`` is the ``model_name`` to ask for."""

    value: str
    label: str
    description: str
    provider: str
    sort: int
    generate_audio: bool
    resolutions: list[ModelResolution]
    durations: list[int]
    max_count: int
    supports_last_frame: bool
    is_pro: bool
    product: str
    engine: str
    modes: list[str]

    @classmethod
    def read(cls, data: Fields) -> VideoModel:
        """From a model list item."""
        return cls(
            value=data.text("value"),
            label=data.text("label"),
            description=data.text("description"),
            provider=data.text("provider"),
            sort=data.integer("sort"),
            generate_audio=data.flag("generate_audio"),
            resolutions=[
                ModelResolution(
                    label=item.text("label"),
                    value=item.text("value"),
                    width=item.integer("width"),
                    height=item.integer("height"),
                    unit_credit=item.number("unit_credit"),
                )
                for item in data.objects("resolutionList")
            ],
            durations=data.integers("durationList"),
            max_count=data.integer("maxCount"),
            supports_last_frame=data.flag("supportedLastFrame"),
            is_pro=data.flag("isPro"),
            product=data.text("product"),
            engine=data.text("engine"),
            modes=data.texts("modes"),
        )


@dataclass(frozen=True)
class Language:
    """A target language of Video Translation. ``need_voice_id``: offer a voice choice."""

    code: str
    name: str
    url: str
    flag_url: str
    need_voice_id: bool

    @classmethod
    def read(cls, data: Fields) -> Language:
        """From a ``lang_list`` item."""
        return cls(
            code=data.text("lang_code"),
            name=data.text("lang_name"),
            url=data.text("url"),
            flag_url=data.text("flag_url"),
            need_voice_id=data.flag("need_voice_id"),
        )


@dataclass(frozen=True)
class Voice:
    """A voice of Video Translation; ``preview`` is an MP3 of it."""

    id: str
    voice_id: str
    name: str
    gender: str
    language: str
    language_code: str
    preview: str
    thumbnail_url: str
    flag_url: str
    age: list[str]
    style: list[str]
    scenario: list[str]

    @classmethod
    def read(cls, data: Fields) -> Voice:
        """From a voice list ``result`` item."""
        return cls(
            id=data.text("_id"),
            voice_id=data.text("voice_id"),
            name=data.text("name"),
            gender=data.text("gender"),
            language=data.text("language"),
            language_code=data.text("language_code"),
            preview=data.text("preview"),
            thumbnail_url=data.text("thumbnailUrl"),
            flag_url=data.text("flag_url"),
            age=data.texts("age"),
            style=data.texts("style"),
            scenario=data.texts("scenario"),
        )


@dataclass(frozen=True)
class VoicePage:
    """One page of the voice list; ``count`` is the number of voices on every page."""

    page: int
    size: int
    count: int
    voices: list[Voice]


@dataclass(frozen=True)
class StudioVoice:
    """``studio_voice`` of a translation: words kept as they are, forced translations, how to
    say words, and the delivery's style (affectionate ... professional, see API.md)."""

    no_translate_words: list[str] = field(default_factory=list)
    fixed_words: dict[str, str] = field(default_factory=dict)
    pronounced_words: dict[str, str] = field(default_factory=dict)
    style: str = ""


@dataclass(frozen=True)
class Upload:
    """An uploaded file (reelsmith): ``url`` works as any input URL until ``expires`` (ms)."""

    url: str
    kind: str
    size: int
    expires: int


@dataclass(frozen=True)
class DeliveryAttempt:
    """One try to deliver a webhook: when (ms), the receiver's HTTP status, the error."""

    at: int
    status_code: int | None
    error: str
    ms: int


@dataclass(frozen=True)
class Delivery:
    """A webhook delivery of a task (reelsmith): ``state`` is pending, delivered or dead."""

    id: int
    task_id: str
    url: str
    event: int
    state: str
    attempts: int
    last_status: int | None
    last_error: str
    next_attempt_at: int | None
    created_at: int
    delivered_at: int | None
    history: list[DeliveryAttempt]

    @classmethod
    def read(cls, data: Fields) -> Delivery:
        """From a deliveries ``result`` item or a redeliver answer."""
        return cls(
            id=data.integer("_id"),
            task_id=data.text("task_id"),
            url=data.text("url"),
            event=data.integer("event"),
            state=data.text("state"),
            attempts=data.integer("attempts"),
            last_status=data.optional_integer("last_status"),
            last_error=data.text("last_error"),
            next_attempt_at=data.optional_integer("next_attempt_at"),
            created_at=data.integer("created_at"),
            delivered_at=data.optional_integer("delivered_at"),
            history=[
                DeliveryAttempt(
                    at=item.integer("at"),
                    status_code=item.optional_integer("status_code"),
                    error=item.text("error"),
                    ms=item.integer("ms"),
                )
                for item in data.objects("history")
            ],
        )


@dataclass(frozen=True)
class WebhookPayload:
    """What a webhook carries once decrypted. ``url`` is the result when ``status`` is 3;
    ``error_code`` and ``error_reason`` say why when it is 4; ``type`` is ``character swap``,
    ``video translate`` or ``image2video``."""

    id: str
    status: int
    type: str
    url: str
    error_code: int | None
    error_reason: str
    deduction_credit: float | None
    raw: JsonObject = field(repr=False)

    @classmethod
    def read(cls, data: Fields) -> WebhookPayload:
        """From the decrypted JSON."""
        return cls(
            id=data.text("_id"),
            status=data.integer("status", "video_status"),
            type=data.text("type"),
            url=data.text("url", "video"),
            error_code=data.optional_integer("error_code"),
            error_reason=data.text("error_reason"),
            deduction_credit=data.optional_number("deduction_credit"),
            raw=data.raw,
        )
