"""The Celery side of scale-out dispatch: one queue per engine, one message per task.

A message carries only the task's id. The task table stays the truth: a worker that takes a
message claims the task under a lease first, so a message delivered twice (a redelivery, a
republished task) runs the task at most once at a time, and a message for a finished or
deleted task is simply acknowledged.
"""

from __future__ import annotations

from celery import Celery

from reelsmith.settings import Settings

RUN_TASK = "reelsmith.run_task"


def queue_for(settings: Settings, engine: str) -> str:
    """The broker queue an engine's tasks wait in."""
    return f"{settings.broker_namespace}.{engine}"


def make_celery(settings: Settings) -> Celery:
    """A Celery application for ``settings.broker_url``, configured for long tasks that must not
    be lost: acknowledged only after they ran, one message taken at a time."""
    if not settings.broker_url:
        raise ValueError("REELSMITH_BROKER_URL is not set")
    app = Celery("reelsmith", broker=settings.broker_url, set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        # A worker process that dies mid-task hands its message back instead of acknowledging it.
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        broker_transport_options={"visibility_timeout": settings.broker_visibility_timeout_seconds},
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=5,
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        task_default_queue=f"{settings.broker_namespace}.default",
        enable_utc=True,
    )
    return app
