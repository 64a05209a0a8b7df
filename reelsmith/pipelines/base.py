"""The pipeline interface that product engines implement and workers run.

A worker hands a pipeline a :class:`Job` (the task's parameters, its inputs as local files, a
scratch folder, a progress callback and a cancellation check) and gets back a
:class:`PipelineResult` (output files and extra fields for the task record). A pipeline never
sees HTTP, credits or the database.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

from reelsmith.products.catalog import Catalog

ParamsT = TypeVar("ParamsT")


class PipelineError(Exception):
    """A failure the user should read (status 4 with this reason): bad media, no face found."""

    def __init__(self, reason: str, error_code: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.error_code = error_code


class Cancelled(Exception):
    """Raised by ``Job.check_cancelled`` when the task was deleted or its lease was lost."""


class EngineUnavailable(Exception):
    """The engine for a product is not installed or not configured; the message says what."""


@dataclass
class Job(Generic[ParamsT]):
    """One task's work: ``params`` is its product's params dataclass (reelsmith/products)."""

    task_id: str
    product: str
    params: ParamsT
    inputs: dict[str, Path]
    work_dir: Path
    report_progress: Callable[[int], None]
    check_cancelled: Callable[[], None]
    # The stage at work and the 0-99 progress, for a caller that shows both (the command line's
    # progress bar); the task record keeps only the number.
    report_stage: Callable[[str, int], None] | None = None
    # Each stage's wall time so far (StageProgress fills it): the worker keeps it in the task's
    # result (``stage_seconds``), where quotes read this installation's speed.
    stage_seconds: dict[str, float] = field(default_factory=dict)


@dataclass
class PipelineResult:
    """``files`` maps output names (``video``, ``original_srt``...) to finished files."""

    files: dict[str, Path]
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Stage:
    """A named step and its share of the progress bar."""

    name: str
    weight: float


class Pipeline(Protocol):
    """What every product engine provides: it runs jobs, and says what it can really make."""

    engine: str

    def run(self, job: Job[Any]) -> PipelineResult: ...

    def catalog(self) -> Catalog:
        """What the catalog endpoints list for this engine (empty lists where it offers none)."""
        ...


@runtime_checkable
class EffectPreviews(Protocol):
    """A pipeline that shows its effects: a thumbnail and a short clip of each."""

    def render_preview(self, code: str, folder: Path) -> tuple[Path, Path]:
        """The effect's preview clip and thumbnail, made once into ``folder``; KeyError for an
        unknown effect."""
        ...


@runtime_checkable
class VoicePreviews(Protocol):
    """A pipeline whose voices can be heard before a task: an MP3 of each saying a sentence."""

    def render_voice_preview(self, voice_id: str, folder: Path) -> Path:
        """The voice's preview MP3, made once into ``folder``; KeyError for an unknown voice."""
        ...


class StageProgress:
    """Maps progress within weighted stages onto the task's 0-100 bar, and keeps the wall time
    each stage took (the time since the previous report goes to the stage reported)."""

    def __init__(self, job: Job[Any], stages: Sequence[Stage]) -> None:
        self._job = job
        self._last = time.perf_counter()
        self.seconds: dict[str, float] = job.stage_seconds
        self.seconds.update({stage.name: 0.0 for stage in stages})
        total = sum(stage.weight for stage in stages) or 1.0
        self._start: dict[str, float] = {}
        self._span: dict[str, float] = {}
        # Pipelines report a stage once it is done, so the one at work then is the next one.
        self._next = {stage.name: after.name for stage, after in zip(stages, stages[1:], strict=False)}
        done = 0.0
        for stage in stages:
            self._start[stage.name] = done / total
            self._span[stage.name] = stage.weight / total
            done += stage.weight
        if job.report_stage is not None and stages:
            job.report_stage(stages[0].name, 0)

    def update(self, stage: str, fraction: float) -> None:
        """Report ``fraction`` (0-1) of ``stage`` done, and honour cancellation."""
        self._job.check_cancelled()
        now = time.perf_counter()
        self.seconds[stage] += now - self._last
        self._last = now
        fraction = min(max(fraction, 0.0), 1.0)
        percent = int(99 * (self._start[stage] + self._span[stage] * fraction))
        self._job.report_progress(percent)
        if self._job.report_stage is not None:
            at_work = self._next.get(stage, stage) if fraction >= 1.0 else stage
            self._job.report_stage(at_work, percent)
