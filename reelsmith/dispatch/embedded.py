"""The embedded worker pool: processes that claim queued tasks from the task table.

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
    owner = f"{socket.gethostname()[:40]}:{os.getpid()}"
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
        run_task(runtime, task_id, owner)


def _worker_process(settings: Settings) -> None:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    worker_loop(settings, stop)


class WorkerPool:
    """``settings.workers`` worker processes, restarted if one dies."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._context = multiprocessing.get_context("spawn")
        self._processes: list[BaseProcess] = []
        self._stop = threading.Event()
        self._watcher = threading.Thread(target=self._watch, name="worker-pool", daemon=True)

    def start(self) -> None:
        self._processes = [self._spawn() for _ in range(self.settings.workers)]
        self._watcher.start()

    def _spawn(self) -> BaseProcess:
        process = self._context.Process(target=_worker_process, args=(self.settings,), daemon=True)
        process.start()
        return process

    def _watch(self) -> None:
        while not self._stop.wait(1.0):
            for index, process in enumerate(self._processes):
                if not process.is_alive() and not self._stop.is_set():
                    log.warning("worker %s exited (%s); starting another", process.pid, process.exitcode)
                    self._processes[index] = self._spawn()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        for process in self._processes:
            process.terminate()
        deadline = now_ms() + int(timeout * 1000)
        for process in self._processes:
            process.join(max(0.0, (deadline - now_ms()) / 1000))
            if process.is_alive():
                process.kill()
