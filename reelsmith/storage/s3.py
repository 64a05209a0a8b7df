"""Files in an S3 bucket (scale-out): the API, the workers and the file route on different
hosts all see the same objects. Clients download results straight from the bucket through
short-lived presigned URLs (the signed reelsmith link redirects to one)."""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from reelsmith.settings import Settings
from reelsmith.storage.base import StorageError, StoredFile, check_key, new_key
from reelsmith.store.ids import now_ms

_MISSING = {"404", "NoSuchKey", "NotFound"}


class S3Storage:
    def __init__(self, settings: Settings) -> None:
        if not settings.s3_bucket:
            raise ValueError("REELSMITH_S3_BUCKET is not set")
        self.bucket = settings.s3_bucket
        self.prefix = settings.s3_prefix.strip("/") + "/" if settings.s3_prefix.strip("/") else ""
        self.url_seconds = int(settings.s3_url_seconds)
        self.client: Any = _client(settings, settings.s3_endpoint_url)
        # Presigning is computed locally, so a client for the public address costs nothing.
        public = settings.s3_public_endpoint_url
        self.presigner: Any = _client(settings, public) if public else self.client

    def _object(self, key: str) -> str:
        return self.prefix + check_key(key)

    def _call(self, key: str | None, operation: str, **kwargs: Any) -> Any:
        """One S3 call; a missing object becomes KeyError, anything else StorageError."""
        try:
            return getattr(self.client, operation)(**kwargs)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if key is not None and code in _MISSING:
                raise KeyError(key) from None
            raise StorageError(f"S3 {operation} failed: {exc}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"S3 {operation} failed: {exc}") from exc

    def put_file(self, source: Path, suffix: str | None = None, move: bool = False) -> StoredFile:
        key = new_key(suffix or source.suffix)
        content_type = mimetypes.guess_type(key)[0] or "application/octet-stream"
        self._call(
            None,
            "upload_file",
            Filename=str(source),
            Bucket=self.bucket,
            Key=self._object(key),
            ExtraArgs={"ContentType": content_type},
        )
        if move:
            source.unlink(missing_ok=True)
        return StoredFile(key=key, created_ms=now_ms())

    def put_bytes(self, data: bytes, suffix: str) -> StoredFile:
        key = new_key(suffix)
        content_type = mimetypes.guess_type(key)[0] or "application/octet-stream"
        self._call(None, "put_object", Bucket=self.bucket, Key=self._object(key), Body=data, ContentType=content_type)
        return StoredFile(key=key, created_ms=now_ms())

    def exists(self, key: str) -> bool:
        try:
            self.size(key)
        except KeyError:
            return False
        return True

    def size(self, key: str) -> int:
        return int(self._call(key, "head_object", Bucket=self.bucket, Key=self._object(key))["ContentLength"])

    def copy_to(self, key: str, target: Path) -> None:
        self._call(key, "download_file", Bucket=self.bucket, Key=self._object(key), Filename=str(target))

    def local_path(self, key: str, scratch: Path) -> Path:
        scratch.mkdir(parents=True, exist_ok=True)
        target = scratch / key.replace("/", "-")
        if not target.is_file():
            self.copy_to(key, target)
        return target

    def delete(self, key: str) -> None:
        try:
            self._call(key, "delete_object", Bucket=self.bucket, Key=self._object(key))
        except KeyError:
            pass

    def sweep(self, older_than_ms: int) -> int:
        """Delete objects under the prefix last written before ``older_than_ms``."""
        removed = 0
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix)
        try:
            for page in pages:
                doomed = [
                    {"Key": item["Key"]}
                    for item in page.get("Contents", [])
                    if item["LastModified"].timestamp() * 1000 < older_than_ms
                ]
                if doomed:
                    self._call(None, "delete_objects", Bucket=self.bucket, Delete={"Objects": doomed, "Quiet": True})
                    removed += len(doomed)
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(f"S3 sweep failed: {exc}") from exc
        return removed

    def direct_url(self, key: str) -> str | None:
        content_type = mimetypes.guess_type(key)[0] or "application/octet-stream"
        return str(
            self.presigner.generate_presigned_url(
                "get_object",
                Params={"Bucket": self.bucket, "Key": self._object(key), "ResponseContentType": content_type},
                ExpiresIn=self.url_seconds,
            )
        )

    def check(self) -> str:
        try:
            self._call(None, "head_bucket", Bucket=self.bucket)
        except StorageError as exc:
            return f"error: bucket {self.bucket}: {exc}"
        return "ok"


def _client(settings: Settings, endpoint_url: str | None) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=settings.s3_region,
        aws_access_key_id=settings.s3_access_key_id,
        aws_secret_access_key=settings.s3_secret_access_key,
        config=Config(
            connect_timeout=5,
            read_timeout=60,
            retries={"mode": "standard", "max_attempts": 4},
            signature_version="s3v4",
        ),
    )
