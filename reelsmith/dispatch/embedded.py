"""The embedded worker pool: processes that claim queued tasks from the task table (and the
webhook sender's process).

Workers are processes, not threads, so that a crash in an engine (or a kill) never takes the
API down, and CPU-bound engines do not contend for one interpreter lock.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import threading
from collections.abc import Callable
from multiprocessing.process import BaseProcess

from reelsmith.dispatch.run_task import run_task_settled, worker_owner
from reelsmith.runtime import Runtime
from reelsmith.settings import Settings
from reelsmith.store.ids import now_ms

log = logging.getLogger("reelsmith.worker")


def worker_loop(settings: Settings, stop: threading.Event | None = None) -> None:
    """Claim and run tasks of ``settings.engines`` until ``stop`` is set (or forever)."""
    stop = stop or threading.Event()
    runtime = Runtime(settings)
    owner = worker_owner()
    engines = list(settings.engines)
    log.info("worker %s serving %s from the task table", owner, ", ".join(engines))
    while not stop.is_set():
        try:
            task_id = runtime.lifecycle.next_claimable(engines)
        except Exception:
            log.exception("worker %s could not read the task table", owner)
            task_id = None
        if task_id is None:
            stop.wait(settings.poll_interval_seconds)
            continue
        if not run_task_settled(runtime, task_id, owner):
            stop.wait(settings.poll_interval_seconds)


def _child_stop_event() -> threading.Event:
    """SIGTERM ends a child's loop after its current piece of work; Ctrl-C is the parent's."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    return stop


def _worker_process(settings: Settings) -> None:
    if settings.broker_url:
        from reelsmith.dispatch.celery_worker import consume

        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
        consume(settings)  # Celery handles SIGTERM itself: it finishes the task in hand, then stops
    else:
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
