"""Waiting for a task: which poll to use, how long to sleep between polls, when to give up.
Shared by the sync and async clients, which only differ in how they sleep and send."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from reelsmith.client import _calls
from reelsmith.client.errors import RateLimitedError, TaskFailedError, UnexpectedResponseError, WaitTimeoutError
from reelsmith.client.types import CharacterSwapTask, Image2VideoTask, TaskInfo, TaskStatus, TranslationTask

AnyTask = str | CharacterSwapTask | TranslationTask | Image2VideoTask
ProgressCallback = Callable[[TaskInfo], None]
AsyncProgressCallback = Callable[[TaskInfo], None | Awaitable[None]]

DEFAULT_TIMEOUT_SECONDS = 1800.0


@dataclass(frozen=True)
class Backoff:
    """Seconds between polls: ``first``, then each time ``factor`` times longer, at most
    ``most``. With the defaults (1 s growing to 10 s) a task is seen done at most a quarter of
    its run time after it finished, and a long one is polled six times a minute."""

    first: float = 1.0
    factor: float = 1.25
    most: float = 10.0


def task_id_of(task: AnyTask) -> str:
    """The ``_id`` of a task or of its create answer."""
    return task if isinstance(task, str) else task.id


def poll_for(task: AnyTask) -> _calls.Call[TaskInfo]:
    """``resultsByIds`` for an Image to Video task (Akool's own poll for it; reelsmith answers
    ``infobymodelid`` for it too), ``infobymodelid`` for everything else."""
    if isinstance(task, Image2VideoTask):
        return _calls.image_to_video_info(task.id)
    return _calls.info(task_id_of(task))


def is_transient(error: Exception) -> bool:
    """A poll that failed this way is tried again at the next poll: the network, a rate limit,
    or a proxy's 5xx while the server restarts."""
    if isinstance(error, httpx.TransportError | RateLimitedError):
        return True
    return isinstance(error, UnexpectedResponseError) and error.status_code >= 500


class Watch:
    """The state of one wait: the last state seen, the next delay, the deadline."""

    def __init__(self, task_id: str, timeout: float, backoff: Backoff) -> None:
        self.task_id = task_id
        self.timeout = timeout
        self.deadline = time.monotonic() + timeout
        self.backoff = backoff
        self.delay = backoff.first
        self.last: TaskInfo | None = None

    def saw(self, info: TaskInfo) -> bool:
        """Record a poll's answer; whether its status or progress changed."""
        changed = self.last is None or (self.last.status, self.last.progress) != (info.status, info.progress)
        self.last = info
        return changed

    def next_delay(self) -> float:
        """How long to sleep before the next poll; WaitTimeoutError once the deadline is past."""
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise WaitTimeoutError(self.task_id, self.timeout, self.last)
        delay = min(self.delay, remaining)
        self.delay = min(self.delay * self.backoff.factor, self.backoff.most)
        return delay


def settled(info: TaskInfo) -> TaskInfo:
    """A finished task's state; TaskFailedError when it failed."""
    if info.status == TaskStatus.FAILED:
        raise TaskFailedError(info)
    return info
