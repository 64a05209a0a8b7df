"""A scale-out worker: a Celery consumer of its engines' queues, one task at a time.

Each message is handed to the same :func:`run_task` as in embedded mode. Messages are
acknowledged after the task ran (``acks_late``); a worker killed mid-task leaves its message
unacknowledged and its task's lease to run out, after which the dispatch reaper publishes the
task again and another worker claims it (``attempts`` + 1, charged once: charges happen only
when a task is created).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from reelsmith.broker.celery_app import RUN_TASK, make_celery, queue_for
from reelsmith.dispatch.presence import report_presence
from reelsmith.dispatch.reaper import start_reaper
from reelsmith.dispatch.run_task import run_task_settled, worker_owner
from reelsmith.runtime import Runtime
from reelsmith.settings import Settings

log = logging.getLogger("reelsmith.worker")


def consume(settings: Settings) -> None:
    """Consume its engines' queues (``REELSMITH_ENGINES``, else all) until Celery is told to stop
    (SIGTERM, SIGINT)."""
    runtime = Runtime(settings)
    app = make_celery(settings)
    owner = worker_owner()

    @app.task(name=RUN_TASK, bind=True, max_retries=None)
    def run(task: Any, task_id: str) -> None:
        if not run_task_settled(runtime, task_id, owner):
            # The database or storage is unreachable: try again once the lease has run out.
            raise task.retry(countdown=settings.lease_seconds)

    queues = [queue_for(settings, engine) for engine in runtime.registry.engines]
    log.info("worker %s consuming %s", owner, ", ".join(queues))
    stop = threading.Event()
    start_reaper(runtime, stop)
    report_presence(runtime, owner, stop)
    worker = app.Worker(
        queues=queues,
        pool="solo",
        concurrency=1,
        hostname=f"{owner.replace(':', '-')}@reelsmith",
        without_gossip=True,
        without_mingle=True,
        without_heartbeat=True,
        loglevel="INFO",
        quiet=True,
    )
    try:
        worker.start()
    finally:
        stop.set()
