"""What the client raises: business refusals carry Akool's code and message, failed tasks their
reason, and everything else says what came back instead of an answer."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reelsmith.client.types import TaskInfo


class ClientError(Exception):
    """The root of everything this client raises on purpose (network errors stay httpx's)."""


class ApiError(ClientError):
    """An answer whose ``code`` is not 1000: the server refused, and ``msg`` says why."""

    def __init__(self, code: int, msg: str) -> None:
        super().__init__(f"{code}: {msg}")
        self.code = code
        self.msg = msg


class InvalidParameterError(ApiError):
    """1003: a field is missing or wrong, or an input URL could not be read."""


class RateLimitedError(ApiError):
    """1005: too many requests; try again a little later."""


class NotFoundError(ApiError):
    """1008: no such task (or one of another team)."""


class PermissionDeniedError(ApiError):
    """1009: the plan does not include this (Character Swap and 10 s videos need Pro)."""


class AuthenticationError(ApiError):
    """1101 or 1102: the key or token is wrong, expired, or missing."""


class InsufficientCreditsError(ApiError):
    """1104: the balance does not cover the task's price."""


class AccountBannedError(ApiError):
    """1200: the account has been banned."""


_BY_CODE: dict[int, type[ApiError]] = {
    1003: InvalidParameterError,
    1005: RateLimitedError,
    1008: NotFoundError,
    1009: PermissionDeniedError,
    1101: AuthenticationError,
    1102: AuthenticationError,
    1104: InsufficientCreditsError,
    1200: AccountBannedError,
}


def api_error(code: int, msg: str) -> ApiError:
    """The most specific :class:`ApiError` subclass for ``code``."""
    return _BY_CODE.get(code, ApiError)(code, msg)


class UnexpectedResponseError(ClientError):
    """An answer that is not the JSON envelope: a proxy's error page, a 404 of a path that does
    not exist there (reelsmith's extensions on Akool), an expired file link."""

    def __init__(self, status_code: int, text: str) -> None:
        super().__init__(f"HTTP {status_code}: {text[:300]}")
        self.status_code = status_code
        self.text = text


class TaskFailedError(ClientError):
    """The task ended in status 4; its credits were refunded. ``info`` is its last state."""

    def __init__(self, info: TaskInfo) -> None:
        super().__init__(f"task {info.id} failed: {info.failure_reason or 'no reason given'}")
        self.info = info
        self.reason = info.failure_reason
        self.error_code = info.error_code


class WaitTimeoutError(ClientError, TimeoutError):
    """The task did not finish in time; it goes on on the server. ``info`` is its last state
    seen (None if no poll answered)."""

    def __init__(self, task_id: str, timeout: float, info: TaskInfo | None) -> None:
        super().__init__(f"task {task_id} did not finish within {timeout:g} s")
        self.task_id = task_id
        self.info = info


class WebhookError(ClientError):
    """A webhook body that does not verify or decrypt with the given credentials."""
