"""Creating a Character Swap task (API.md section 3)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from reelsmith.errors import ApiError, Code
from reelsmith.faces.detection import one_clear_face
from reelsmith.runtime import Runtime
from reelsmith.services.accounts import Caller
from reelsmith.services.inputs import InputBatch
from reelsmith.services.pricing import character_swap_price
from reelsmith.services.tasks import NewTask, checked_webhook
from reelsmith.store.ids import now_ms
from reelsmith.store.models import TaskRecord

PRODUCT = "character_swap"
ENGINE = "character-swap"
MODEL_NAME = "reelsmith-character-v1"


@dataclass(frozen=True)
class CharacterSwapOrder:
    image: str
    video: str
    duration: float | None
    resolution: str
    mode: str
    prompt: str
    webhookurl: str


async def create_character_swap(
    runtime: Runtime, caller: Caller, order: CharacterSwapOrder, base_url: str = ""
) -> TaskRecord:
    """Validate and fetch the inputs, price the seconds used, charge, and queue the task."""
    if caller.plan != "pro":
        raise ApiError(Code.NO_PERMISSION, "Character Swap needs the Pro plan")
    webhook_url = checked_webhook(order.webhookurl, "webhookUrl", runtime.settings.allowed_networks)
    limit = runtime.settings.character_swap_max_seconds
    async with InputBatch(runtime) as inputs:
        image = await inputs.image("image", order.image, "image")
        problem = await asyncio.to_thread(one_clear_face, image)
        if problem is not None:
            raise ApiError(Code.PARAMETER, f"image {problem}")
        _, info = await inputs.video("video", order.video, "video", max_seconds=None, max_fps=None, require_audio=False)
        seconds = min(order.duration or info.duration, info.duration)
        if seconds > limit:
            raise ApiError(
                Code.TOO_LONG,
                f"video is {info.duration:.1f} s long; the limit is {limit:g} s (set duration to use the first part)",
            )
        seconds = round(seconds, 3)
        created = now_ms()
        new_task = NewTask(
            product=PRODUCT,
            engine=ENGINE,
            params={
                "image_url": order.image,
                "video_url": order.video,
                "duration": seconds,
                "source_duration": info.duration,
                "resolution": order.resolution,
                "mode": order.mode,
                "prompt": order.prompt,
                "model_name": MODEL_NAME,
                "file_name": f"CharacterSwap_{created}.mp4",
            },
            inputs=inputs.stored,
            price=character_swap_price(seconds, order.resolution),
            webhook_url=webhook_url,
        )
        [task] = await asyncio.to_thread(runtime.tasks.create, caller, [new_task], base_url, created)
    return task
