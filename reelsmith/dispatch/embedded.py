"""The embedded worker pool: processes that claim queued tasks from the task table (and the
webhook sender's process).

Workers are processes, not threads, so that a crash in an engine (or a kill) never takes the
API down, and CPU-bound engines do not contend for one interpreter lock. They run at a lower CPU
priority (``REELSMITH_WORKER_NICE``) so that the API answers polls promptly while they render.
Every child watches its parent and ends within a second of it, however the parent ended (a
SIGKILL included), so a restarted ``serve`` never finds strays fighting for the cores.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from multiprocessing.process import BaseProcess

from reelsmith.dispatch.presence import report_presence
from reelsmith.dispatch.run_task import run_task_settled, worker_owner
from reelsmith.runtime import Runtime
from reelsmith.settings import Settings
from reelsmith.store.ids import now_ms
from reelsmith.telemetry import metrics
from reelsmith.telemetry.logs import configure_logging

log = logging.getLogger("reelsmith.worker")


def worker_loop(settings: Settings, stop: threading.Event | None = None) -> None:
    """Claim and run tasks of its engines (``REELSMITH_ENGINES``, else all) until ``stop`` is
    set (or forever)."""
    stop = stop or threading.Event()
    runtime = Runtime(settings)
    owner = worker_owner()
    engines = runtime.registry.engines
    log.info("worker %s serving %s from the task table", owner, ", ".join(engines))
    report_presence(runtime, owner, stop)
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


PARENT_CHECK_SECONDS = 0.5


def die_with_parent(parent_pid: int) -> None:
    """End this process as soon as ``parent_pid`` is no longer its parent (the parent died and
    the process was handed to init). Checked from a thread: it works whatever ended the parent,
    and wherever in its work this process is (a task in hand is taken again after its lease)."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(PARENT_CHECK_SECONDS)
        log.warning("process %s: the server (pid %s) is gone; exiting", os.getpid(), parent_pid)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _child_stop_event() -> threading.Event:
    """SIGTERM ends a child's loop after its current piece of work; Ctrl-C is the parent's."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    return stop


def _worker_process(settings: Settings, parent_pid: int) -> None:
    die_with_parent(parent_pid)
    configure_logging(settings.log_format)
    os.nice(settings.worker_nice)  # the engines' ffmpeg children inherit it
    if settings.broker_url:
        from reelsmith.dispatch.celery_worker import consume

        consume(settings)  # Celery handles SIGTERM itself: it finishes the task in hand, then stops
    else:
        worker_loop(settings, _child_stop_event())


def _sender_process(settings: Settings, parent_pid: int) -> None:
    from reelsmith.dispatch.webhook_sender import sender_loop

    die_with_parent(parent_pid)
    configure_logging(settings.log_format)
    sender_loop(Runtime(settings), _child_stop_event())


class WorkerPool:
    """The background processes of ``reelsmith serve``: ``settings.workers`` workers and, when
    ``settings.webhook_sender`` is on, one webhook sender; any that dies is started again."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._context = multiprocessing.get_context("spawn")
        self._targets: list[Callable[[Settings, int], None]] = [_worker_process] * settings.workers
        if settings.webhook_sender:
            self._targets.append(_sender_process)
        self._processes: list[BaseProcess] = []
        self._stop = threading.Event()
        self._watcher = threading.Thread(target=self._watch, name="worker-pool", daemon=True)

    def start(self) -> None:
        self._processes = [self._spawn(target) for target in self._targets]
        self._watcher.start()

    def _spawn(self, target: Callable[[Settings, int], None]) -> BaseProcess:
        process = self._context.Process(target=target, args=(self.settings, os.getpid()), daemon=True)
        process.start()
        return process

    def _watch(self) -> None:
        while not self._stop.wait(1.0):
            for index, process in enumerate(self._processes):
                if not process.is_alive() and not self._stop.is_set():
                    log.warning("process %s exited (%s); starting another", process.pid, process.exitcode)
                    _exited(process)
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
                process.join(1.0)
            _exited(process)


def _exited(process: BaseProcess) -> None:
    if process.pid is not None:
        metrics.process_exited(process.pid)
