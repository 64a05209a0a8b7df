"""Creating Image to Video tasks: single, batch, and new audio for a finished video
(API.md section 5)."""

from __future__ import annotations

import asyncio
import dataclasses
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from reelsmith.errors import ApiError, Code
from reelsmith.inputs.batch import InputBatch, InputSources
from reelsmith.inputs.checks import MAX_PIXELS, check_picture
from reelsmith.inputs.fetch import checked_webhook
from reelsmith.products import image2video as product
from reelsmith.products.catalog import Catalog, ModelEntry
from reelsmith.products.image2video import (
    Image2VideoBatchRequest,
    Image2VideoParams,
    Image2VideoRequest,
    UpdateVideoAudioRequest,
)
from reelsmith.services.accounts import Caller
from reelsmith.services.tasks import NewTask, TaskService
from reelsmith.storage.base import StoredFile
from reelsmith.store.ids import new_object_id
from reelsmith.store.models import TaskRecord


@dataclass(frozen=True)
class Image2VideoService:
    catalog: Callable[[], Catalog]
    tasks: TaskService
    inputs: InputSources

    def _check_plan(self, caller: Caller, request: Image2VideoRequest, catalog: Catalog) -> None:
        if request.video_length == 10 and caller.plan != "pro":
            raise ApiError(Code.NO_PERMISSION, "video_length 10 needs the Pro plan")
        # Akool's demo sends is_premium_model: true for most models on every plan: it only asks
        # for something (and needs Pro) where a premium model is installed.
        premium_installed = any(model.is_pro for model in catalog.models)
        if request.is_premium_model and premium_installed and caller.plan != "pro":
            raise ApiError(Code.NO_PERMISSION, "is_premium_model needs the Pro plan")

    async def create(self, caller: Caller, request: Image2VideoRequest, base_url: str = "") -> list[TaskRecord]:
        """``count`` tasks (distinct seeds) from one image, charged together or not at all;
        one for the single create, which is a batch of one without a batch id."""
        async with self.inputs.batch() as inputs:
            new_tasks = await self.plan(caller, request, inputs)
            return await asyncio.to_thread(self.tasks.create, caller, new_tasks, base_url)

    async def plan(self, caller: Caller, request: Image2VideoRequest, inputs: InputBatch) -> list[NewTask]:
        """What a create does before it charges: every check, the inputs fetched into ``inputs``,
        each task priced. A quote runs it too, so it refuses what a create refuses, in the same words."""
        batch = request if isinstance(request, Image2VideoBatchRequest) else None
        count = batch.count if batch else 1
        last_image_url = batch.last_image_url if batch else ""
        catalog = self.catalog()
        self._check_plan(caller, request, catalog)
        # The operator's default model, where it is installed (else the first installed one).
        default = self.inputs.settings.default_models.get(product.NAME, "")
        asked = (batch.model_name if batch else "") or (default if catalog.model(default) else "")
        model = _model(catalog, asked, count, last_image_url, request.effect_code)
        effect_name = _effect_name(catalog, request.effect_code, model)
        webhook_url = checked_webhook(request.webhookurl, "webhookurl", self.inputs.settings.allowed_networks)
        batch_id = new_object_id() if batch else None
        # The pixel rule goes with the fetch: the picture is decoded there, and a bomb must be
        # refused by its header before that.
        picture = await inputs.image("image", request.image_url, "image_url", max_pixels=MAX_PIXELS)
        await asyncio.to_thread(check_picture, picture, "image_url")
        if last_image_url:
            last = await inputs.image("last_image", last_image_url, "last_image_url", max_pixels=MAX_PIXELS)
            await asyncio.to_thread(check_picture, last, "last_image_url")
        if request.audio_type == 2:
            await inputs.audio("audio", request.audio_url, "audio_url")
        originals = dict(inputs.stored)
        new_tasks = []
        for index in range(count):
            params = Image2VideoParams(
                image_url=request.image_url,
                prompt=request.prompt,
                negative_prompt=request.negative_prompt,
                extend_prompt=request.extend_prompt,
                resolution=request.resolution,
                video_length=request.video_length,
                audio_type=request.audio_type,
                audio_url=request.audio_url,
                effect_code=request.effect_code,
                effect_name=effect_name,
                is_premium_model=request.is_premium_model,
                model_name=model.value if model else "",
                last_image_url=last_image_url,
                seed=secrets.randbelow(2**31),
                batch_count=count,
                file_name=product.file_name(request.prompt, effect_name),
            )
            files = originals if index == 0 else await inputs.duplicate(originals)
            new_tasks.append(
                NewTask(
                    product=product.PRODUCT,
                    params=params,
                    inputs=files,
                    price=product.price(request.resolution, request.video_length),
                    webhook_url=webhook_url,
                    batch_id=batch_id,
                    engine=model.engine if model else "",
                )
            )
        return new_tasks

    async def update_audio(self, caller: Caller, request: UpdateVideoAudioRequest, base_url: str = "") -> TaskRecord:
        """A new task that puts audio on a finished video: 5 credits per started 5 seconds."""
        previous = await asyncio.to_thread(self.tasks.get, caller, request.pre_video_id, product.NAME)
        if previous.status != 3 or "video" not in previous.result.get("files", {}):
            raise ApiError(Code.PARAMETER, "pre_video_id must be a completed Image to Video task")
        before = product.params_of(previous)
        seconds = float(previous.result.get("video_duration", before.video_length))
        webhook_url = checked_webhook(request.webhookurl, "webhookurl", self.inputs.settings.allowed_networks)
        async with self.inputs.batch() as inputs:
            await inputs.copy_of("video", StoredFile.from_json(previous.result["files"]["video"]))
            if request.audio_type == 2:
                await inputs.audio("audio", request.audio_url, "audio_url")
            params = dataclasses.replace(
                before,
                audio_type=request.audio_type,
                audio_url=request.audio_url,
                only_add_audio=True,
                pre_video_id=previous.id,
                # generated sound (audio_type 1) is designed for the motion the video was made with
                motion_plan=previous.result.get("motion_plan"),
                batch_count=1,
            )
            new_task = NewTask(
                product=product.PRODUCT,
                params=params,
                inputs=dict(inputs.stored),
                price=product.add_audio_price(seconds),
                webhook_url=webhook_url,
                result={"video_duration": seconds},
            )
            [task] = await asyncio.to_thread(self.tasks.create, caller, [new_task], base_url)
        return task


def _effect_name(catalog: Catalog, effect_code: str, model: ModelEntry | None) -> str:
    if not effect_code:
        return ""
    effects = [effect for effect in catalog.effects if effect.code == effect_code]
    if not effects:
        raise ApiError(
            Code.PARAMETER,
            f"effect_code {effect_code!r} is not one of the installed effects; see /api/open/v4/image2Video/effects",
        )
    made = next((effect for effect in effects if model is None or effect.engine == model.engine), None)
    if made is None:
        assert model is not None
        raise ApiError(Code.PARAMETER, f"effect_code {effect_code!r} is not made by the model {model.value}")
    return made.name


def _model(
    catalog: Catalog, model_name: str, count: int, last_image_url: str, effect_code: str = ""
) -> ModelEntry | None:
    """The model that will run, checked against the request: the one named; else the first
    installed one that makes the effect asked for; else the first installed one."""
    models = catalog.models_of(product.NAME)
    makers = {effect.engine for effect in catalog.effects if effect.code == effect_code}
    default = next((m for m in models if m.engine in makers), None) or next(iter(models), None)
    model = catalog.model(model_name) if model_name else default
    if model is None:
        if model_name:
            raise ApiError(
                Code.PARAMETER, f"model_name {model_name!r} is not an installed model; see /api/open/v4/aigModel/list"
            )
        return None
    if count > model.max_count:
        raise ApiError(Code.PARAMETER, f"count must be at most {model.max_count} for {model.value}")
    if last_image_url and not model.supports_last_frame:
        raise ApiError(Code.PARAMETER, f"last_image_url is not supported by {model.value}")
    return model
