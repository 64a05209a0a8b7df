"""Files in a local folder (the embedded default)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from reelsmith.storage.base import StoredFile, check_key, new_key
from reelsmith.store.ids import now_ms


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)

    def path(self, key: str) -> Path:
        """The file behind a key; refuses anything that is not a key we made."""
        return self.root / check_key(key)

    def exists(self, key: str) -> bool:
        try:
            return self.path(key).is_file()
        except KeyError:
            return False

    def size(self, key: str) -> int:
        try:
            return self.path(key).stat().st_size
        except FileNotFoundError:
            raise KeyError(key) from None

    def put_file(self, source: Path, suffix: str | None = None, move: bool = False) -> StoredFile:
        """Copy (or move) a finished file into storage under a new key."""
        target = self.path(new_key(suffix or source.suffix))
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(target.suffix + ".part")
        if move:
            shutil.move(source, partial)
        else:
            try:
                # Stored files are never changed in place, so a second name for the same data
                # is as good as a copy, and free.
                os.link(source, partial)
            except OSError:
                shutil.copyfile(source, partial)
        os.utime(partial)  # retention counts from when the file entered storage
        os.replace(partial, target)
        return StoredFile(key=str(target.relative_to(self.root)), created_ms=now_ms())

    def put_bytes(self, data: bytes, suffix: str) -> StoredFile:
        target = self.path(new_key(suffix))
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(target.suffix + ".part")
        partial.write_bytes(data)
        os.replace(partial, target)
        return StoredFile(key=str(target.relative_to(self.root)), created_ms=now_ms())

    def local_path(self, key: str, scratch: Path) -> Path:
        path = self.path(key)
        if not path.is_file():
            raise KeyError(key)
        return path

    def copy_to(self, key: str, target: Path) -> None:
        try:
            shutil.copyfile(self.path(key), target)
        except FileNotFoundError:
            raise KeyError(key) from None

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

    def direct_url(self, key: str) -> str | None:
        return None

    def check(self) -> str:
        return "ok" if os.access(self.root, os.W_OK) else f"error: {self.root} is not writable"
