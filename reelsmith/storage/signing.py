"""Signed, expiring file URLs: ``/files/<key>?expires=<ms>&signature=<hmac>``."""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import parse_qs, urlsplit

from reelsmith.storage.base import StoredFile
from reelsmith.store.ids import now_ms

FILES_PREFIX = "/files/"


class UrlSigner:
    """Every URL of a file expires when the file's retention ends."""

    def __init__(self, secret: bytes, retention_ms: int) -> None:
        self._secret = hashlib.sha256(b"file-urls:" + secret).digest()
        self.retention_ms = retention_ms

    def _signature(self, key: str, expires: int) -> str:
        message = f"{key}\n{expires}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()[:32]

    def url(self, base_url: str, stored: StoredFile) -> str:
        expires = stored.created_ms + self.retention_ms
        return (
            f"{base_url.rstrip('/')}{FILES_PREFIX}{stored.key}"
            f"?expires={expires}&signature={self._signature(stored.key, expires)}"
        )

    def verify(self, key: str, expires: int, signature: str) -> bool:
        """True while the signature matches and the URL has not expired."""
        if expires < now_ms():
            return False
        return hmac.compare_digest(self._signature(key, expires), signature)

    def own_key(self, url: str) -> str | None:
        """The storage key when ``url`` is a valid, unexpired file URL of this server."""
        parts = urlsplit(url)
        if not parts.path.startswith(FILES_PREFIX):
            return None
        query = parse_qs(parts.query)
        try:
            expires = int(query["expires"][0])
            signature = query["signature"][0]
        except (KeyError, ValueError, IndexError):
            return None
        key = parts.path[len(FILES_PREFIX) :]
        return key if self.verify(key, expires, signature) else None
