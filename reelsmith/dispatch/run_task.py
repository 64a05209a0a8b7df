"""``run_task(task_id)``: the one function every worker runs, whatever brought it the task."""

from __future__ import annotations

import logging
import os
import shutil
import socket
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy.exc import InterfaceError, OperationalError

from reelsmith.pipelines.base import Cancelled, EngineUnavailable, Job, PipelineError
from reelsmith.products import UnknownProduct, product_named
from reelsmith.runtime import Runtime
from reelsmith.services.lifecycle import internal_reason
from reelsmith.storage.base import StorageError, StoredFile
from reelsmith.store.models import Task, task_inputs, task_request_id
from reelsmith.telemetry import metrics
from reelsmith.telemetry.logs import task_context

log = logging.getLogger("reelsmith.worker")

PROGRESS_MIN_INTERVAL_S = 0.5

# Failures of what a task runs on rather than of the task: the database or the storage could not
# be reached. The task is left to its lease and taken again, never failed (or charged) for them.
INFRASTRUCTURE_ERRORS: tuple[type[BaseException], ...] = (OperationalError, InterfaceError, StorageError)


def worker_owner() -> str:
    """A name for this worker process, written on the tasks it claims.

    Host and pid say where a task runs; the random part keeps two containers that share a
    host name and a pid from being taken for the same owner."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def run_task_settled(runtime: Runtime, task_id: str, owner: str) -> bool:
    """:func:`run_task`, with every outcome settled: an unexpected error ends the task with a
    refund. Returns False when the infrastructure failed and the task should be tried again
    later (its lease runs out, or the caller retries the message)."""
    try:
        run_task(runtime, task_id, owner)
    except INFRASTRUCTURE_ERRORS:
        log.exception("worker %s: infrastructure failure while running %s; it will be taken again", owner, task_id)
        return False
    except Exception as exc:
        log.exception("worker %s could not run task %s", owner, task_id)
        try:
            runtime.lifecycle.fail(task_id, owner, internal_reason(exc, "task's"))
        except Exception:
            log.exception("worker %s could not record the failure of %s", owner, task_id)
    return True


class _Lease:
    """Keeps the lease alive from a background thread; notices when it is lost."""

    def __init__(self, runtime: Runtime, task_id: str, owner: str) -> None:
        self._runtime = runtime
        self._task_id = task_id
        self._owner = owner
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"lease-{task_id}", daemon=True)

    def __enter__(self) -> _Lease:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _beat(self) -> None:
        interval = self._runtime.settings.lease_seconds / 3
        while not self._stop.wait(interval):
            try:
                alive = self._runtime.lifecycle.heartbeat(self._task_id, self._owner)
            except Exception:  # a database hiccup is not a lost lease; try again next beat
                log.exception("heartbeat of %s failed", self._task_id)
                continue
            if not alive:
                self.lost.set()
                return


def run_task(runtime: Runtime, task_id: str, owner: str) -> None:
    """Claim ``task_id`` for ``owner``, run its pipeline, and record the outcome."""
    task = runtime.lifecycle.claim(task_id, owner)
    if task is None:
        return
    with task_context(task_id, task_request_id(task.params)):
        _run_claimed(runtime, task, owner)


def _run_claimed(runtime: Runtime, task: Task, owner: str) -> None:
    task_id = task.id
    log.info("task %s: %s on %s, attempt %d, by %s", task_id, task.product, task.engine, task.attempts, owner)
    lifecycle = runtime.lifecycle
    try:
        product = product_named(task.product)
        pipeline = runtime.registry.load(task.engine)
    except (UnknownProduct, EngineUnavailable) as exc:
        lifecycle.fail(task_id, owner, str(exc))
        return

    work_dir = runtime.settings.work_dir / f"{task_id}-{owner}"
    work_dir.mkdir(parents=True, exist_ok=True)
    try:
        with _Lease(runtime, task_id, owner) as lease:
            job = _make_job(runtime, task, product.params_from(task.params), work_dir, owner, lease)
            try:
                outcome = pipeline.run(job)
            except Cancelled:
                log.info("task %s: lease lost or task deleted; leaving it", task_id)
                return
            except PipelineError as exc:
                log.info("task %s failed: %s", task_id, exc.reason)
                lifecycle.fail(task_id, owner, exc.reason, exc.error_code)
                return
            except Exception as exc:  # an engine bug must still end the task and refund it
                log.exception("task %s failed", task_id)
                lifecycle.fail(task_id, owner, internal_reason(exc, task.engine))
                return
            if lease.lost.is_set():
                return
            result: dict[str, Any] = dict(outcome.fields)
            if job.stage_seconds:
                # Where quotes learn this installation's speed (services/quote.py).
                result["stage_seconds"] = {stage: round(spent, 3) for stage, spent in job.stage_seconds.items()}
            result["files"] = {
                name: runtime.storage.put_file(path, move=True).to_json() for name, path in outcome.files.items()
            }
            if not lifecycle.complete(task_id, owner, result):
                _delete_files(runtime, result["files"])
                return
            # Stages a pipeline declared but never reached have no time to count.
            metrics.stages_timed(task.product, task.engine, {k: v for k, v in job.stage_seconds.items() if v > 0})
            log.info("task %s: done", task_id)
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)


def _make_job(runtime: Runtime, task: Task, params: object, work_dir: Path, owner: str, lease: _Lease) -> Job[object]:
    task_id = task.id
    inputs = {
        name: runtime.storage.local_path(StoredFile.from_json(value).key, work_dir / "inputs")
        for name, value in task_inputs(task.params).items()
    }
    last_report = [0.0]

    def report_progress(progress: int) -> None:
        now = time.monotonic()
        if now - last_report[0] >= PROGRESS_MIN_INTERVAL_S:
            last_report[0] = now
            runtime.lifecycle.set_progress(task_id, owner, progress)

    def check_cancelled() -> None:
        if lease.lost.is_set():
            raise Cancelled(task_id)

    return Job(
        task_id=task_id,
        product=task.product,
        params=params,
        inputs=inputs,
        work_dir=work_dir,
        report_progress=report_progress,
        check_cancelled=check_cancelled,
    )


def _delete_files(runtime: Runtime, files: dict[str, dict[str, Any]]) -> None:
    for value in files.values():
        runtime.storage.delete(str(value["key"]))
