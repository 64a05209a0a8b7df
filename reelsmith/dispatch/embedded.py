"""The embedded worker pool: processes that claim queued tasks from the task table (and the
webhook sender's process).

Workers are processes, not threads, so that a crash in an engine (or a kill) never takes the
API down, and CPU-bound engines do not contend for one interpreter lock.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import threading
import uuid
from collections.abc import Callable
from multiprocessing.process import BaseProcess

from reelsmith.dispatch.run_task import run_task
from reelsmith.runtime import Runtime
from reelsmith.settings import Settings
from reelsmith.store.ids import now_ms

log = logging.getLogger("reelsmith.worker")


def worker_loop(settings: Settings, stop: threading.Event | None = None) -> None:
    """Claim and run tasks of ``settings.engines`` until ``stop`` is set (or forever)."""
    stop = stop or threading.Event()
    runtime = Runtime(settings)
    # Host and pid say where a task runs; the random part keeps two containers that share a
    # host name and a pid from being taken for the same owner.
    owner = f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    engines = list(settings.engines)
    log.info("worker %s serving %s", owner, ", ".join(engines))
    while not stop.is_set():
        try:
            task_id = runtime.lifecycle.next_claimable(engines)
        except Exception:
            log.exception("worker %s could not read the task table", owner)
            task_id = None
        if task_id is None:
            stop.wait(settings.poll_interval_seconds)
            continue
        try:
            run_task(runtime, task_id, owner)
        except Exception as exc:  # storage or database trouble: end the task rather than the worker
            log.exception("worker %s could not run task %s", owner, task_id)
            try:
                runtime.lifecycle.fail(task_id, owner, f"internal error while running the task: {exc}")
            except Exception:
                log.exception("worker %s could not record the failure of %s", owner, task_id)


def _child_stop_event() -> threading.Event:
    """SIGTERM ends a child's loop after its current piece of work; Ctrl-C is the parent's."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    return stop


def _worker_process(settings: Settings) -> None:
    worker_loop(settings, _child_stop_event())


def _sender_process(settings: Settings) -> None:
    from reelsmith.dispatch.webhook_sender import sender_loop

    sender_loop(Runtime(settings), _child_stop_event())


class WorkerPool:
    """The background processes of ``reelsmith serve``: ``settings.workers`` workers and, when
    ``settings.webhook_sender`` is on, one webhook sender; any that dies is started again."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._context = multiprocessing.get_context("spawn")
        self._targets: list[Callable[[Settings], None]] = [_worker_process] * settings.workers
        if settings.webhook_sender:
            self._targets.append(_sender_process)
        self._processes: list[BaseProcess] = []
        self._stop = threading.Event()
        self._watcher = threading.Thread(target=self._watch, name="worker-pool", daemon=True)

    def start(self) -> None:
        self._processes = [self._spawn(target) for target in self._targets]
        self._watcher.start()

    def _spawn(self, target: Callable[[Settings], None]) -> BaseProcess:
        process = self._context.Process(target=target, args=(self.settings,), daemon=True)
        process.start()
        return process

    def _watch(self) -> None:
        while not self._stop.wait(1.0):
            for index, process in enumerate(self._processes):
                if not process.is_alive() and not self._stop.is_set():
                    log.warning("process %s exited (%s); starting another", process.pid, process.exitcode)
                    self._processes[index] = self._spawn(self._targets[index])

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        for process in self._processes:
            process.terminate()
        deadline = now_ms() + int(timeout * 1000)
        for process in self._processes:
            process.join(max(0.0, (deadline - now_ms()) / 1000))
            if process.is_alive():
                process.kill()
