"""Identifiers shaped like Akool's (MongoDB ObjectId: 24 hex characters)."""

from __future__ import annotations

import os
import re
import time

OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")


def new_object_id() -> str:
    """A 24-hex id: 4 bytes of seconds (so ids sort by creation), then 8 random bytes."""
    return int(time.time()).to_bytes(4, "big").hex() + os.urandom(8).hex()


def is_object_id(value: str) -> bool:
    return bool(OBJECT_ID.match(value))


def now_ms() -> int:
    return int(time.time() * 1000)
