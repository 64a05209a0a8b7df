"""What every storage backend offers: files kept under opaque keys like
``2026/11/21/<hex>.mp4``, written once, read by workers and by the file route, swept after
the retention period."""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

KEY = re.compile(r"^[0-9]{4}/[0-9]{2}/[0-9]{2}/[0-9a-f]{32}\.[a-z0-9]{1,5}$")


class StorageError(RuntimeError):
    """The storage could not be reached or refused an operation (not: a key that is not there)."""


@dataclass(frozen=True)
class StoredFile:
    """A file in storage; ``created_ms`` fixes when its URLs expire."""

    key: str
    created_ms: int

    def to_json(self) -> dict[str, object]:
        return {"key": self.key, "created_ms": self.created_ms}

    @classmethod
    def from_json(cls, value: dict[str, object]) -> StoredFile:
        return cls(key=str(value["key"]), created_ms=int(value["created_ms"]))  # type: ignore[call-overload]


def new_key(suffix: str) -> str:
    """A fresh key: the day (for humans and lifecycle rules) and 128 random bits."""
    suffix = suffix.lower().lstrip(".") or "bin"
    if not re.fullmatch(r"[a-z0-9]{1,5}", suffix):
        suffix = "bin"
    return time.strftime("%Y/%m/%d/", time.gmtime()) + os.urandom(16).hex() + "." + suffix


def check_key(key: str) -> str:
    """``key`` itself; KeyError for anything that is not a key we made (no paths, no ``..``)."""
    if not KEY.match(key):
        raise KeyError(key)
    return key


class Storage(Protocol):
    """A place for input and result files. :class:`~reelsmith.storage.local.LocalStorage` is a
    folder; :class:`~reelsmith.storage.s3.S3Storage` an S3 bucket."""

    def put_file(self, source: Path, suffix: str | None = None, move: bool = False) -> StoredFile:
        """Store a finished file under a new key; ``move`` lets the backend consume ``source``."""

    def put_bytes(self, data: bytes, suffix: str) -> StoredFile: ...

    def exists(self, key: str) -> bool: ...

    def size(self, key: str) -> int:
        """The file's size in bytes; KeyError when it is not there."""

    def local_path(self, key: str, scratch: Path) -> Path:
        """A local file with the key's content, to read (never to change): the file itself for a
        folder, a download into ``scratch`` for a bucket. KeyError when it is not there."""

    def copy_to(self, key: str, target: Path) -> None:
        """Write the key's content to ``target``; KeyError when it is not there."""

    def delete(self, key: str) -> None: ...

    def sweep(self, older_than_ms: int) -> int:
        """Delete files stored before ``older_than_ms``; returns how many went."""

    def direct_url(self, key: str) -> str | None:
        """A URL a client can download the file from without passing through reelsmith (a
        presigned S3 URL), or None where files are served by reelsmith itself."""

    def check(self) -> str:
        """'ok', or what is wrong (for readiness and ``reelsmith doctor``)."""
