"""Creating Image to Video tasks: single, batch, and new audio for a finished video
(API.md section 5)."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from typing import Any

from reelsmith.errors import ApiError, Code
from reelsmith.media.picture import MAX_PIXELS, check_picture
from reelsmith.runtime import Runtime
from reelsmith.services.accounts import Caller
from reelsmith.services.inputs import InputBatch
from reelsmith.services.pricing import add_audio_price, image2video_price
from reelsmith.services.tasks import NewTask, checked_webhook
from reelsmith.storage.base import StoredFile
from reelsmith.store.ids import new_object_id
from reelsmith.store.models import TaskRecord

PRODUCT = "image2video"
ENGINE = "image2video"
FILE_NAME_PREFIX_CHARS = 24


@dataclass(frozen=True)
class Image2VideoOrder:
    image_url: str
    prompt: str
    resolution: str
    video_length: int
    audio_type: int
    negative_prompt: str = ""
    extend_prompt: bool = False
    audio_url: str = ""
    effect_code: str = ""
    is_premium_model: bool = False
    webhookurl: str = ""
    model_name: str = ""
    last_image_url: str = ""
    count: int = 1


@dataclass(frozen=True)
class AudioOrder:
    pre_video_id: str
    audio_type: int
    audio_url: str = ""
    webhookurl: str = ""


def _check_plan(runtime: Runtime, caller: Caller, order: Image2VideoOrder) -> None:
    if order.video_length == 10 and caller.plan != "pro":
        raise ApiError(Code.NO_PERMISSION, "video_length 10 needs the Pro plan")
    # Akool's demo sends is_premium_model: true for most models on every plan: it only asks for
    # something (and needs Pro) where a premium model is installed.
    premium_installed = any(model.get("isPro") for model in runtime.registry.catalog("models"))
    if order.is_premium_model and premium_installed and caller.plan != "pro":
        raise ApiError(Code.NO_PERMISSION, "is_premium_model needs the Pro plan")


def _effect_name(runtime: Runtime, effect_code: str) -> str:
    if not effect_code:
        return ""
    for effect in runtime.registry.catalog("effects"):
        if effect["effect_code"] == effect_code:
            return str(effect["name"])
    raise ApiError(
        Code.PARAMETER,
        f"effect_code {effect_code!r} is not one of the installed effects; see /api/open/v4/image2Video/effects",
    )


def _model(runtime: Runtime, model_name: str, order: Image2VideoOrder) -> str:
    """The model that will run (the first installed one by default), checked against the order."""
    models = {str(m["value"]): m for m in runtime.registry.catalog("models")}
    name = model_name or next(iter(models), "")
    model = models.get(name)
    if model is None:
        if model_name:
            raise ApiError(
                Code.PARAMETER, f"model_name {model_name!r} is not an installed model; see /api/open/v4/aigModel/list"
            )
        return name
    if order.count > int(model.get("maxCount", 10)):
        raise ApiError(Code.PARAMETER, f"count must be at most {model['maxCount']} for {name}")
    if order.last_image_url and not model.get("supportedLastFrame", False):
        raise ApiError(Code.PARAMETER, f"last_image_url is not supported by {name}")
    return name


async def create_image2video(
    runtime: Runtime, caller: Caller, order: Image2VideoOrder, batch: bool = False, base_url: str = ""
) -> list[TaskRecord]:
    """``count`` tasks (distinct seeds) from one image, charged together or not at all."""
    _check_plan(runtime, caller, order)
    effect_name = _effect_name(runtime, order.effect_code)
    model_name = _model(runtime, order.model_name, order)
    webhook_url = checked_webhook(order.webhookurl, "webhookurl", runtime.settings.allowed_networks)
    batch_id = new_object_id() if batch else None
    async with InputBatch(runtime) as inputs:
        # The pixel rule goes with the fetch: the picture is decoded there, and a bomb must be
        # refused by its header before that.
        picture = await inputs.image("image", order.image_url, "image_url", max_pixels=MAX_PIXELS)
        await asyncio.to_thread(check_picture, picture, "image_url")
        if order.last_image_url:
            last = await inputs.image("last_image", order.last_image_url, "last_image_url", max_pixels=MAX_PIXELS)
            await asyncio.to_thread(check_picture, last, "last_image_url")
        if order.audio_type == 2:
            await inputs.audio("audio", order.audio_url, "audio_url")
        originals = dict(inputs.stored)
        new_tasks = []
        for index in range(order.count):
            params: dict[str, Any] = {
                "image_url": order.image_url,
                "prompt": order.prompt,
                "negative_prompt": order.negative_prompt,
                "extend_prompt": order.extend_prompt,
                "resolution": order.resolution,
                "video_length": order.video_length,
                "audio_type": order.audio_type,
                "audio_url": order.audio_url,
                "effect_code": order.effect_code,
                "effect_name": effect_name,
                "is_premium_model": order.is_premium_model,
                "model_name": model_name,
                "last_image_url": order.last_image_url,
                "only_add_audio": False,
                "seed": secrets.randbelow(2**31),
                "batch_count": order.count,
                "file_name": f"Image2Video_{(order.prompt or effect_name)[:FILE_NAME_PREFIX_CHARS]}.mp4",
            }
            files = originals if index == 0 else await inputs.duplicate(originals)
            new_tasks.append(
                NewTask(
                    product=PRODUCT,
                    engine=ENGINE,
                    params=params,
                    inputs=files,
                    price=image2video_price(order.resolution, order.video_length),
                    webhook_url=webhook_url,
                    batch_id=batch_id,
                )
            )
        return await asyncio.to_thread(runtime.tasks.create, caller, new_tasks, base_url)


async def create_audio_update(runtime: Runtime, caller: Caller, order: AudioOrder, base_url: str = "") -> TaskRecord:
    """A new task that puts audio on a finished video: 5 credits per started 5 seconds."""
    previous = await asyncio.to_thread(runtime.tasks.get, caller, order.pre_video_id, PRODUCT)
    if previous.status != 3 or "video" not in previous.result.get("files", {}):
        raise ApiError(Code.PARAMETER, "pre_video_id must be a completed Image to Video task")
    seconds = float(previous.result.get("video_duration", previous.params["video_length"]))
    webhook_url = checked_webhook(order.webhookurl, "webhookurl", runtime.settings.allowed_networks)
    async with InputBatch(runtime) as inputs:
        await inputs.copy_of("video", StoredFile.from_json(previous.result["files"]["video"]))
        if order.audio_type == 2:
            await inputs.audio("audio", order.audio_url, "audio_url")
        params = {
            **{k: v for k, v in previous.params.items() if k != "inputs"},
            "audio_type": order.audio_type,
            "audio_url": order.audio_url,
            "only_add_audio": True,
            "pre_video_id": previous.id,
            # generated sound (audio_type 1) is designed for the motion the video was made with
            "motion_plan": previous.result.get("motion_plan"),
            "batch_count": 1,
        }
        [task] = await asyncio.to_thread(
            runtime.tasks.create,
            caller,
            [
                NewTask(
                    product=PRODUCT,
                    engine=ENGINE,
                    params=params,
                    inputs=dict(inputs.stored),
                    price=add_audio_price(seconds),
                    webhook_url=webhook_url,
                    result={"video_duration": seconds},
                )
            ],
            base_url,
        )
    return task
