"""The business codes of the contract (API.md section 1) and the error that carries one."""

from __future__ import annotations

import errno
from enum import IntEnum


class Code(IntEnum):
    OK = 1000
    PARAMETER = 1003
    TOO_FREQUENT = 1005
    NOT_FOUND = 1008
    NO_PERMISSION = 1009
    CREATE_FAILED = 1015
    BAD_AUTH = 1101
    NO_AUTH = 1102
    NO_CREDITS = 1104
    BANNED = 1200
    NO_AUDIO = 1203
    TOO_LONG = 1204
    TOO_LARGE = 1207
    BAD_ENCODING = 1209
    FPS_TOO_HIGH = 1210


class ApiError(Exception):
    """A refusal that the HTTP layer turns into ``{"code": code, "msg": msg}`` with HTTP 200."""

    def __init__(self, code: Code, msg: str) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg


def parameter_error(msg: str) -> ApiError:
    return ApiError(Code.PARAMETER, msg)


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) is "no space left on device" or an exceeded quota."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        current = current.__cause__ or current.__context__
    return False
