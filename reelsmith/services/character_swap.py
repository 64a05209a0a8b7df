"""Creating a Character Swap task (API.md section 3)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from reelsmith.errors import ApiError, Code
from reelsmith.faces.detection import one_clear_face
from reelsmith.inputs.batch import InputBatch, InputSources
from reelsmith.inputs.fetch import checked_webhook
from reelsmith.products import character_swap as product
from reelsmith.products.catalog import Catalog, ModelEntry
from reelsmith.products.character_swap import CharacterSwapParams, CharacterSwapRequest
from reelsmith.services.accounts import Caller
from reelsmith.services.tasks import NewTask, TaskService
from reelsmith.store.ids import now_ms
from reelsmith.store.models import TaskRecord


@dataclass(frozen=True)
class CharacterSwapService:
    catalog: Callable[[], Catalog]
    tasks: TaskService
    inputs: InputSources

    async def create(self, caller: Caller, request: CharacterSwapRequest, base_url: str = "") -> TaskRecord:
        """Validate and fetch the inputs, price the seconds used, charge, and queue the task."""
        created = now_ms()
        async with self.inputs.batch() as inputs:
            new_task = await self.plan(caller, request, inputs, created)
            [task] = await asyncio.to_thread(self.tasks.create, caller, [new_task], base_url, created)
        return task

    async def plan(self, caller: Caller, request: CharacterSwapRequest, inputs: InputBatch, created: int) -> NewTask:
        """What a create does before it charges: every check, the inputs fetched into ``inputs``,
        the price. A quote runs it too, so it refuses what a create refuses, in the same words."""
        if caller.plan != "pro":
            raise ApiError(Code.NO_PERMISSION, "Character Swap needs the Pro plan")
        settings = self.inputs.settings
        catalog = self.catalog()
        # The operator's default model, where it is installed (else the product's own engine).
        default = catalog.model(settings.default_models.get(product.NAME, ""), product.NAME)
        runs_mode = default is not None and (not default.modes or request.mode in default.modes)
        asked = request.model_name or (default.value if default is not None and runs_mode else "")
        model = _model(catalog, asked, request.mode)
        webhook_url = checked_webhook(request.webhookurl, "webhookUrl", settings.allowed_networks)
        limit = settings.character_swap_max_seconds
        image = await inputs.image("image", request.image, "image")
        problem = await asyncio.to_thread(one_clear_face, image)
        if problem is not None:
            raise ApiError(Code.PARAMETER, f"image {problem}")
        _, info = await inputs.video(
            "video", request.video, "video", max_seconds=None, max_fps=None, require_audio=False
        )
        seconds = min(request.duration or info.duration, info.duration)
        if seconds > limit:
            raise ApiError(
                Code.TOO_LONG,
                f"video is {info.duration:.1f} s long; the limit is {limit:g} s (set duration to use the first part)",
            )
        seconds = round(seconds, 3)
        params = CharacterSwapParams(
            image_url=request.image,
            video_url=request.video,
            duration=seconds,
            source_duration=info.duration,
            resolution=request.resolution,
            mode=request.mode,
            prompt=request.prompt,
            model_name=model.value if model else product.MODEL_NAME,
            file_name=product.file_name(created),
        )
        return NewTask(
            product=product.PRODUCT,
            params=params,
            inputs=inputs.stored,
            price=product.price(seconds, request.resolution),
            webhook_url=webhook_url,
            engine=model.engine if model else "",
        )


def _model(catalog: Catalog, model_name: str, mode: str) -> ModelEntry | None:
    """The model asked for (it must be installed and run ``mode``), else the first installed one
    that runs ``mode``; None where no pipeline lists a model (the product's own engine runs it)."""
    models = catalog.models_of(product.NAME)
    if model_name:
        model = catalog.model(model_name, product.NAME)
        if model is None:
            raise ApiError(
                Code.PARAMETER, f"model_name {model_name!r} is not an installed model; see /api/reelsmith/v1/models"
            )
        if model.modes and mode not in model.modes:
            runs = ", ".join(model.modes)
            raise ApiError(Code.PARAMETER, f"mode {mode!r} is not run by the model {model_name} (it runs {runs})")
        return model
    return next((m for m in models if not m.modes or mode in m.modes), None)
