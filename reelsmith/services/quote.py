"""A quote: what a create would charge, how long its work would take here, and what its inputs
hold, answered without charging, queueing or storing anything (``POST /api/reelsmith/v1/quote``,
docs/quote.md).

The price and every refusal are the create's own: the product service's ``plan`` (the part of a
create before the charge) runs on a :class:`~reelsmith.inputs.preflight.PreflightBatch`, which
fetches and checks the inputs as a create does but never stores them. The inspection
(services/preflight.py) then looks into the fetched files on a thread of its own, one quote at
a time per process, with a short queue: a flood of quotes waits there (or is refused, 1005)
instead of taking the cores the API and the workers need.

The expected time comes from the stage times that finished tasks recorded (``stage_seconds`` in
a task's result, which the worker fills from the pipeline's StageProgress): this installation's
speed, as a factor over the documented speeds below, measured on the recent tasks of the engine
that would run it. Without such tasks, the documented speeds themselves.
"""

from __future__ import annotations

import asyncio
import statistics
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property, partial
from pathlib import Path
from typing import Literal, TypeVar

from sqlalchemy import func, select

from reelsmith.errors import ApiError, Code
from reelsmith.inputs.batch import InputSources
from reelsmith.inputs.preflight import PreflightBatch
from reelsmith.media.probe import MediaInfo
from reelsmith.models.interfaces import Recognizer
from reelsmith.models.registry import load_models
from reelsmith.products import PRODUCTS
from reelsmith.products.character_swap import CharacterSwapParams, CharacterSwapRequest
from reelsmith.products.image2video import Image2VideoParams, Image2VideoRequest
from reelsmith.products.video_translation import TranslationParams, TranslationRequest
from reelsmith.services.accounts import AccountService, Caller
from reelsmith.services.character_swap import CharacterSwapService
from reelsmith.services.image2video import Image2VideoService
from reelsmith.services.preflight import (
    Inputs,
    Inspection,
    inspect_character_swap,
    inspect_image2video,
    inspect_translation,
)
from reelsmith.services.tasks import NewTask
from reelsmith.services.video_translation import TranslationService
from reelsmith.store.db import Database
from reelsmith.store.ids import now_ms
from reelsmith.store.models import Task

QuotableRequest = CharacterSwapRequest | TranslationRequest | Image2VideoRequest

# --- the documented speeds (docs/benchmarks.md, 2 cores), until this installation has its own ----

# Character Swap: frames made per second of wall time. 1080p was not measured: 720p's rate
# scaled by the pixels (720/1080 squared).
CHARACTER_SWAP_FPS = {
    "replace": {"480p": 52.8, "720p": 36.0, "1080p": 16.0},
    "animate": {"480p": 22.5, "720p": 20.2, "1080p": 9.0},
}
# A frame rate for the finished tasks whose report does not count their frames.
_USUAL_FPS = 30.0
# Video Translation: seconds of wall time per second of video (43.0 s a minute; 78 s with lip-sync).
TRANSLATION_SECONDS_PER_SECOND = {False: 0.72, True: 1.3}
# Image to Video: seconds of wall time per second of video. 4K was not measured: 1080p's cost
# for four times the pixels at 24 fps instead of 30.
IMAGE2VIDEO_SECONDS_PER_SECOND = {"720p": 0.75, "1080p": 1.3, "4k": 4.2}

# How many recent finished tasks of an engine give its speed here.
HISTORY_TASKS = 20
# Inspections at once in a process, and how many quotes may wait for one before 1005.
INSPECTING_AT_ONCE = 1
WAITING_AT_MOST = 8

Expected = Literal["history", "defaults"]
T = TypeVar("T")


@dataclass(frozen=True)
class Quote:
    """The answer: what the create would charge and do, and what its inputs hold."""

    credit: int  # exactly the create's deduction_credit (all its tasks together)
    balance: int
    affordable: bool
    expected_seconds: float  # the tasks' work one after another, once a worker takes them
    expected_from: Expected
    queue_ahead: int  # tasks queued on the engine that would run it
    tasks: int  # how many tasks the create would make (one per language; a batch's count)
    inputs: Inputs
    warnings: tuple[str, ...]


class _Inspections:
    """Runs inspections on threads of their own, :data:`INSPECTING_AT_ONCE` at a time, with at
    most :data:`WAITING_AT_MOST` waiting; more are refused (1005)."""

    def __init__(self, at_once: int, waiting: int) -> None:
        self._pool = ThreadPoolExecutor(max_workers=at_once, thread_name_prefix="quote")
        self._limit = at_once + waiting
        self._pending = 0
        self._lock = threading.Lock()

    async def run(self, work: Callable[[], T]) -> T:
        with self._lock:
            if self._pending >= self._limit:
                raise ApiError(Code.TOO_FREQUENT, "this server is busy with other quotes; try again in a few seconds")
            self._pending += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._pool, work)
        finally:
            with self._lock:
                self._pending -= 1


class QuoteService:
    """Quotes for the three creates, through each product service's own ``plan``."""

    def __init__(
        self,
        character_swap: CharacterSwapService,
        translation: TranslationService,
        image2video: Image2VideoService,
        accounts: AccountService,
        db: Database,
        inputs: InputSources,
    ) -> None:
        self.character_swap = character_swap
        self.translation = translation
        self.image2video = image2video
        self.accounts = accounts
        self.db = db
        self.inputs = inputs
        self._inspections = _Inspections(INSPECTING_AT_ONCE, WAITING_AT_MOST)

    @cached_property
    def _recognizer(self) -> Recognizer | None:
        # The first recogniser that detects languages, loaded on the first translation quote.
        return load_models(self.inputs.settings).recognizer_for(None)

    async def quote(self, caller: Caller, request: QuotableRequest) -> Quote:
        """What the create of ``request`` would charge now and take here, what its inputs hold,
        and warnings where the result will be poor. Refuses (raises :class:`ApiError`) exactly
        where the create would, except for want of credits, which is a warning here."""
        batch = PreflightBatch(self.inputs)
        async with batch:
            inspect: Callable[[], Inspection]
            frames = None  # what Character Swap makes, whose work is per frame
            if isinstance(request, CharacterSwapRequest):
                new_tasks = [await self.character_swap.plan(caller, request, batch, now_ms())]
                params = _params(new_tasks[0], CharacterSwapParams)
                frames = params.duration * batch.media["video"].fps
                inspect = partial(inspect_character_swap, request, params, batch.files, batch.media)
            elif isinstance(request, TranslationRequest):
                new_tasks = await self.translation.plan(caller, request, batch)
                targets = tuple(_params(task, TranslationParams).language for task in new_tasks)
                inspect = partial(self._inspect_translation, request, targets, batch.files, batch.media)
            else:
                new_tasks = await self.image2video.plan(caller, request, batch)
                inspect = partial(inspect_image2video, _params(new_tasks[0], Image2VideoParams), batch.files)
            inspection = await self._inspections.run(inspect)
        credit = sum(task.price for task in new_tasks)
        engine = new_tasks[0].engine or new_tasks[0].product.engine
        balance, queue_ahead, factor = await asyncio.to_thread(self._now, caller, engine)
        work = sum(_at_documented_speed(task.params, frames) for task in new_tasks)
        warnings = inspection.warnings
        if balance < credit:
            warnings += (f"not enough credits: this costs {credit} and the balance is {balance}",)
        return Quote(
            credit=credit,
            balance=balance,
            affordable=balance >= credit,
            expected_seconds=round(work * (factor or 1.0), 1),
            expected_from="history" if factor is not None else "defaults",
            queue_ahead=queue_ahead,
            tasks=len(new_tasks),
            inputs=inspection.inputs,
            warnings=warnings,
        )

    def _inspect_translation(
        self,
        request: TranslationRequest,
        targets: tuple[str, ...],
        files: Mapping[str, Path],
        media: Mapping[str, MediaInfo],
    ) -> Inspection:
        # The recogniser is loaded here, on the inspection thread: the first time takes seconds.
        return inspect_translation(request, targets, files, media, self._recognizer)

    def _now(self, caller: Caller, engine: str) -> tuple[int, int, float | None]:
        """The team's balance, the tasks queued on ``engine``, and its speed factor here."""
        queued = self.db.read_first(
            select(func.count())
            .select_from(Task)
            .where(Task.engine == engine, Task.status == 1, Task.deleted.is_(False))
        )
        return self.accounts.balance(caller.account_id), int(queued[0]) if queued else 0, self._speed_factor(engine)

    def _speed_factor(self, engine: str) -> float | None:
        """How much longer than the documented speeds the engine's recent finished tasks took
        here (the median of their ratios); None before any recorded its stage times."""
        rows = self.db.read_all(
            select(Task.product, Task.params, Task.result)
            .where(Task.engine == engine, Task.status == 3)
            .order_by(Task.create_time.desc())
            .limit(HISTORY_TASKS)
        )
        ratios = []
        for row in rows:
            spent = _stage_seconds(row.result)
            product = PRODUCTS.get(row.product)
            if spent is None or product is None:
                continue
            report = row.result.get("swap_report")
            frames = float(report["frames"]) if isinstance(report, dict) and report.get("frames") else None
            documented = _at_documented_speed(product.params_from(row.params), frames)
            if documented > 0:
                ratios.append(spent / documented)
        return statistics.median(ratios) if ratios else None


ParamsT = TypeVar("ParamsT")


def _params(task: NewTask, kind: type[ParamsT]) -> ParamsT:
    params = task.params
    assert isinstance(params, kind), f"{task.product.name} planned {type(params).__name__}"
    return params


def _at_documented_speed(params: object, frames: float | None) -> float:
    """Seconds a task's work takes at the documented speeds; 0 for work they do not cover (new
    audio on a finished video). ``frames``: the frames a Character Swap makes, where known."""
    if isinstance(params, CharacterSwapParams):
        rate = CHARACTER_SWAP_FPS.get(params.mode, {}).get(params.resolution)
        if not rate:
            return 0.0
        return (frames or params.duration * _USUAL_FPS) / rate
    if isinstance(params, TranslationParams):
        return params.video_lock_duration * TRANSLATION_SECONDS_PER_SECOND[params.lipsync]
    if isinstance(params, Image2VideoParams) and not params.only_add_audio:
        return params.video_length * IMAGE2VIDEO_SECONDS_PER_SECOND.get(params.resolution, 0.0)
    return 0.0


def _stage_seconds(result: Mapping[str, object]) -> float | None:
    """The wall time a finished task's stages took: ``stage_seconds`` in its result, or in one of
    its reports (Video Translation's report kept it before the worker did)."""
    places = [result, *(value for value in result.values() if isinstance(value, dict))]
    for place in places:
        stages = place.get("stage_seconds")
        if isinstance(stages, dict) and stages:
            total = sum(float(value) for value in stages.values() if isinstance(value, int | float))
            return total if total > 0 else None
    return None
