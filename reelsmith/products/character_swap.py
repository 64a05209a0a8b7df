"""Character Swap (API.md section 3), as one typed thing: the request, the params a task stores
and its pipeline receives, prices and limits, and the answers' shapes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NotRequired, TypedDict

from pydantic import AliasChoices, Field, field_validator

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
    plain_number,
    required_text,
    started_blocks,
    webhook_field,
)
from reelsmith.store.models import TaskRecord

NAME = "character_swap"
MODEL_NAME = "reelsmith-character-v1"
RESOLUTIONS = ("480p", "720p", "1080p")
MODES = ("animate", "replace")
# Credits per started 5 seconds: 12 s at 720p = 30.
PRICE_PER_5S = {"480p": 5, "720p": 10, "1080p": 15}
DURATION_RANGE = (1, 120)


def price(seconds: float, resolution: str) -> int:
    """ceil(seconds / 5) x 5 / 10 / 15 at 480p / 720p / 1080p."""
    return started_blocks(seconds) * PRICE_PER_5S[resolution]


def file_name(created_ms: int) -> str:
    return f"CharacterSwap_{created_ms}.mp4"


class CharacterSwapRequest(Body):
    image: str = Field(
        validation_alias=AliasChoices("image", "image_url"), description="Character image URL (PNG/JPEG)"
    )
    video: str = Field(validation_alias=AliasChoices("video", "video_url"), description="Source video URL (MP4)")
    duration: float | None = Field(default=None, description="Seconds of the source to use, 1-120")
    resolution: str = Field(default="720p", description="480p, 720p or 1080p (short side)")
    mode: str = Field(default="animate", description="animate or replace")
    prompt: str = Field(default="", description=f"At most {PROMPT_MAX} characters")
    # An extension (Akool's answer names the model but its request cannot choose one): a
    # model-backed engine installed here, see GET /api/reelsmith/v1/models.
    model_name: str = Field(default="", description="The model that runs it; default: the first installed")
    webhookurl: str = webhook_field()

    _text = field_validator("image", "video")(required_text)
    _prompt_length = field_validator("prompt")(at_most(PROMPT_MAX))
    _numbers = field_validator("duration", mode="before")(plain_number)

    @field_validator("duration")
    @classmethod
    def _duration(cls, value: float | None) -> float | None:
        low, high = DURATION_RANGE
        if value is not None and not low <= value <= high:
            raise ValueError(f"must be between {low} and {high} seconds")
        return value

    @field_validator("resolution")
    @classmethod
    def _resolution(cls, value: str) -> str:
        return one_of(value, RESOLUTIONS)  # type: ignore[no-any-return]

    @field_validator("mode")
    @classmethod
    def _mode(cls, value: str) -> str:
        return one_of(value, MODES)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class CharacterSwapParams:
    image_url: str
    video_url: str
    duration: float  # the seconds of the source used (and paid for)
    resolution: str
    mode: str
    prompt: str = ""
    source_duration: float = 0.0
    model_name: str = MODEL_NAME
    file_name: str = ""


def params_of(task: TaskRecord) -> CharacterSwapParams:
    return params_from_json(CharacterSwapParams, task.params)


class CharacterSwapCreated(TypedDict):
    """The create answer (``status``); ``video_url`` is the INPUT here."""

    _id: str
    create_time: int
    uid: int
    team_id: str
    status: int
    video_duration: float
    deduction_credit: int
    resolution: str
    file_name: str
    image_url: str
    video_url: str
    prompt: str
    mode: str
    model_name: str
    webhookUrl: str


class CharacterSwapInfo(TypedDict):
    """``infobymodelid``: ``video_status``, and ``video`` (the OUTPUT) once done."""

    _id: str
    create_time: int
    uid: int
    team_id: str
    update_time: int
    video_duration: float
    webhookUrl: str
    file_name: str
    image_url: str
    video_url: str
    prompt: str
    mode: str
    resolution: str
    deduction_credit: int
    video_status: int
    progress: int
    video: NotRequired[str]
    faceswap_fail_reason: NotRequired[str]
    swap_report: NotRequired[JsonObject]


def created_view(task: TaskRecord, owner: Owner) -> CharacterSwapCreated:
    p = params_of(task)
    return CharacterSwapCreated(
        _id=task.id,
        create_time=task.create_time,
        uid=owner.uid,
        team_id=owner.team_id,
        status=task.status,
        video_duration=p.duration,
        deduction_credit=credit_of(task),
        resolution=p.resolution,
        file_name=p.file_name,
        image_url=p.image_url,
        video_url=p.video_url,
        prompt=p.prompt,
        mode=p.mode,
        model_name=p.model_name,
        webhookUrl=task.webhook_url,
    )


def info_view(task: TaskRecord, owner: Owner, links: Links) -> CharacterSwapInfo:
    p = params_of(task)
    view = CharacterSwapInfo(
        _id=task.id,
        create_time=task.create_time,
        uid=owner.uid,
        team_id=owner.team_id,
        update_time=task.update_time,
        video_duration=task.result.get("video_duration", p.duration),
        webhookUrl=task.webhook_url,
        file_name=p.file_name,
        image_url=p.image_url,
        video_url=p.video_url,
        prompt=p.prompt,
        mode=p.mode,
        resolution=p.resolution,
        deduction_credit=credit_of(task),
        video_status=task.status,
        progress=task.progress,
    )
    if task.status == 3:
        view["video"] = links(task, "video")
    if task.status == 4:
        view["faceswap_fail_reason"] = task.fail_reason or ""
    if "swap_report" in task.result:
        view["swap_report"] = task.result["swap_report"]
    return view


PRODUCT = Product(
    name=NAME,
    engine="character-swap",
    title="Character Swap",
    webhook_type="character swap",
    pipeline="reelsmith.pipelines.character_swap:CharacterSwapPipeline",
    params_type=CharacterSwapParams,
    info=info_view,
)
