"""Image to Video (API.md section 5), as one typed thing: the requests Akool's clients send, the
params a task stores and its pipeline receives, prices and limits, and the answers' shapes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NotRequired, TypedDict

from pydantic import Field, field_validator, model_validator

from reelsmith.products.common import (
    PROMPT_MAX,
    Body,
    JsonObject,
    Links,
    Owner,
    Product,
    at_most,
    credit_of,
    one_of,
    params_from_json,
    plain_integer,
    required_text,
    started_blocks,
    webhook_field,
)
from reelsmith.store.models import TaskRecord

NAME = "image2video"
RESOLUTIONS = ("720p", "1080p", "4k")
SHORT_SIDE = {"720p": 720, "1080p": 1080, "4k": 2160}
LENGTHS = (5, 10)
# Credits for 5 s; twice that for 10 s. Audio asked for at creation is free.
PRICE_5S = {"720p": 20, "1080p": 25, "4k": 30}
ADD_AUDIO_PRICE_5S = 5
# Akool's image-to-video demo sends a 597-character negative prompt by default (API.md section 5).
NEGATIVE_PROMPT_MAX = 2000
MAX_COUNT = 10
FILE_NAME_PREFIX_CHARS = 24


def price(resolution: str, video_length: int) -> int:
    """20 / 25 / 30 credits for 5 s at 720p / 1080p / 4k; twice that for 10 s."""
    return PRICE_5S[resolution] * (video_length // 5)


def add_audio_price(seconds: float) -> int:
    """updateVideoAudio: 5 credits per started 5 seconds."""
    return started_blocks(seconds) * ADD_AUDIO_PRICE_5S


def file_name(prompt: str, effect_name: str) -> str:
    """``Image2Video_`` and the first 24 characters of the prompt (or the effect's name)."""
    return f"Image2Video_{(prompt or effect_name)[:FILE_NAME_PREFIX_CHARS]}.mp4"


# --- requests ---------------------------------------------------------------------------------


class Image2VideoRequest(Body):
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
    webhookurl: str = webhook_field()

    _text = field_validator("image_url")(required_text)
    _prompt_length = field_validator("prompt")(at_most(PROMPT_MAX))
    _negative_length = field_validator("negative_prompt")(at_most(NEGATIVE_PROMPT_MAX))
    _numbers = field_validator("video_length", "audio_type", mode="before")(plain_integer)

    @field_validator("resolution")
    @classmethod
    def _resolution(cls, value: str) -> str:
        return one_of(value, RESOLUTIONS)  # type: ignore[no-any-return]

    @field_validator("video_length")
    @classmethod
    def _length(cls, value: int) -> int:
        return one_of(value, LENGTHS)  # type: ignore[no-any-return]

    @field_validator("audio_type")
    @classmethod
    def _audio_type(cls, value: int) -> int:
        return one_of(value, (1, 2, 3))  # type: ignore[no-any-return]

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
    count: int = Field(default=1, description=f"1-{MAX_COUNT} variations")

    _count_number = field_validator("count", mode="before")(plain_integer)

    @field_validator("count")
    @classmethod
    def _count(cls, value: int) -> int:
        if not 1 <= value <= MAX_COUNT:
            raise ValueError(f"must be between 1 and {MAX_COUNT}")
        return value


class UpdateVideoAudioRequest(Body):
    pre_video_id: str = Field(description="_id of a finished Image to Video task")
    audio_type: int = Field(description="1 generated, 2 audio_url")
    audio_url: str = ""
    webhookurl: str = webhook_field()

    _text = field_validator("pre_video_id")(required_text)
    _numbers = field_validator("audio_type", mode="before")(plain_integer)

    @field_validator("audio_type")
    @classmethod
    def _audio_type(cls, value: int) -> int:
        return one_of(value, (1, 2))  # type: ignore[no-any-return]

    @model_validator(mode="after")
    def _dependencies(self) -> UpdateVideoAudioRequest:
        if self.audio_type == 2 and not self.audio_url.strip():
            raise ValueError("audio_url is required when audio_type is 2")
        return self


# --- what a task stores and its pipeline receives ---------------------------------------------


@dataclass(frozen=True)
class Image2VideoParams:
    image_url: str
    prompt: str
    resolution: str
    video_length: int
    audio_type: int
    negative_prompt: str = ""
    extend_prompt: bool = False
    audio_url: str = ""
    effect_code: str = ""
    effect_name: str = ""
    is_premium_model: bool = False
    model_name: str = ""
    last_image_url: str = ""
    # Each task of a batch gets its own seed, and a batch's plans vary.
    seed: int = 0
    batch_count: int = 1
    file_name: str = ""
    # updateVideoAudio: new sound on the video of ``pre_video_id``, designed for its motion plan.
    only_add_audio: bool = False
    pre_video_id: str = ""
    motion_plan: JsonObject | None = None


def params_of(task: TaskRecord) -> Image2VideoParams:
    return params_from_json(Image2VideoParams, task.params)


# --- answers ----------------------------------------------------------------------------------


class Image2VideoCreated(TypedDict):
    """A task in the create answers (``status``, not ``video_status``)."""

    _id: str
    create_time: int
    uid: int
    team_id: str
    status: int
    webhookUrl: str
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
    deduction_credit: int
    batch_id: NotRequired[str]
    batch_count: NotRequired[int]
    model_name: NotRequired[str]


class Image2VideoResult(Image2VideoCreated):
    """A task in ``resultsByIds``: ``video_url`` is the OUTPUT here (unlike Character Swap)."""

    update_time: int
    video_duration: float
    video_url: str
    cover_url: str
    only_add_audio: bool
    progress: int
    error_reason: NotRequired[str]
    motion_plan: NotRequired[JsonObject]


class Image2VideoInfo(Image2VideoResult):
    """A task in ``infobymodelid``: its ``resultsByIds`` shape plus ``video_status`` and ``video``."""

    video_status: int
    video: str


def created_view(task: TaskRecord, owner: Owner) -> Image2VideoCreated:
    p = params_of(task)
    view = Image2VideoCreated(
        _id=task.id,
        create_time=task.create_time,
        uid=owner.uid,
        team_id=owner.team_id,
        status=task.status,
        webhookUrl=task.webhook_url,
        resolution=p.resolution,
        file_name=p.file_name,
        effect_name=p.effect_name,
        effect_code=p.effect_code,
        image_url=p.image_url,
        prompt=p.prompt,
        negative_prompt=p.negative_prompt,
        extend_prompt=p.extend_prompt,
        audio_type=p.audio_type,
        audio_url=p.audio_url,
        deduction_credit=credit_of(task),
    )
    if task.batch_id:
        view["batch_id"] = task.batch_id
        view["batch_count"] = p.batch_count
        view["model_name"] = p.model_name
    return view


def result_view(task: TaskRecord, owner: Owner, links: Links) -> Image2VideoResult:
    p = params_of(task)
    done = task.status == 3
    view = Image2VideoResult(
        **created_view(task, owner),
        update_time=task.update_time,
        video_duration=task.result.get("video_duration", p.video_length),
        video_url=links(task, "video") if done else "",
        cover_url=links(task, "cover") if done else "",
        only_add_audio=p.only_add_audio,
        progress=task.progress,
    )
    view["model_name"] = p.model_name
    if task.status == 4:
        view["error_reason"] = task.fail_reason or ""
    if "motion_plan" in task.result:
        view["motion_plan"] = task.result["motion_plan"]
    return view


def info_view(task: TaskRecord, owner: Owner, links: Links) -> Image2VideoInfo:
    result = result_view(task, owner, links)
    return Image2VideoInfo(**result, video_status=result["status"], video=result["video_url"])


PRODUCT = Product(
    name=NAME,
    engine="image2video",
    title="Image to Video",
    webhook_type="image2video",
    pipeline="reelsmith.pipelines.image2video:Image2VideoPipeline",
    params_type=Image2VideoParams,
    info=info_view,
)
