"""Files in a local folder, addressed by opaque keys like ``2026/11/21/<hex>.mp4``."""

from __future__ import annotations

import os
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from reelsmith.store.ids import now_ms

KEY = re.compile(r"^[0-9]{4}/[0-9]{2}/[0-9]{2}/[0-9a-f]{32}\.[a-z0-9]{1,5}$")


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


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)

    def _new_key(self, suffix: str) -> str:
        suffix = suffix.lower().lstrip(".") or "bin"
        if not re.fullmatch(r"[a-z0-9]{1,5}", suffix):
            suffix = "bin"
        return time.strftime("%Y/%m/%d/", time.gmtime()) + os.urandom(16).hex() + "." + suffix

    def path(self, key: str) -> Path:
        """The file behind a key; refuses anything that is not a key we made."""
        if not KEY.match(key):
            raise KeyError(key)
        return self.root / key

    def exists(self, key: str) -> bool:
        try:
            return self.path(key).is_file()
        except KeyError:
            return False

    def put_file(self, source: Path, suffix: str | None = None, move: bool = False) -> StoredFile:
        """Copy (or move) a finished file into storage under a new key."""
        key = self._new_key(suffix or source.suffix)
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(target.suffix + ".part")
        if move:
            shutil.move(source, partial)
        else:
            shutil.copyfile(source, partial)
        os.utime(partial)  # retention counts from when the file entered storage
        os.replace(partial, target)
        return StoredFile(key=key, created_ms=now_ms())

    def put_bytes(self, data: bytes, suffix: str) -> StoredFile:
        key = self._new_key(suffix)
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(target.suffix + ".part")
        partial.write_bytes(data)
        os.replace(partial, target)
        return StoredFile(key=key, created_ms=now_ms())

    def delete(self, key: str) -> None:
        try:
            self.path(key).unlink(missing_ok=True)
        except KeyError:
            pass

    def sweep(self, older_than_ms: int) -> int:
        """Delete files last written before ``older_than_ms``; returns how many went."""
        removed = 0
        for path in self.root.rglob("*"):
            if path.is_file() and path.stat().st_mtime * 1000 < older_than_ms:
                path.unlink(missing_ok=True)
                removed += 1
        for folder in sorted((p for p in self.root.rglob("*") if p.is_dir()), reverse=True):
            if not any(folder.iterdir()):
                folder.rmdir()
        return removed
