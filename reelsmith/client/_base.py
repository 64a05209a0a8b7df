"""What the sync and async clients share: where the server is, how requests authenticate, and
webhook opening with the client's own credentials."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from importlib import metadata

import httpx

from reelsmith.client._calls import Call, get_token
from reelsmith.client._json import JsonValue
from reelsmith.client.errors import ApiError
from reelsmith.client.types import WebhookPayload
from reelsmith.client.webhooks import open_webhook

# Creates fetch and check their inputs before answering, which can take a while for a large
# video; connecting should not.
DEFAULT_TIMEOUT = httpx.Timeout(120.0, connect=10.0)
UPLOAD_CHUNK_BYTES = 1024 * 1024
TOKEN_EXPIRED = 1101


def _user_agent() -> str:
    try:
        return f"reelsmith-client/{metadata.version('reelsmith')}"
    except metadata.PackageNotFoundError:
        return "reelsmith-client"


USER_AGENT = _user_agent()


class ClientCore:
    """Configuration and credentials. The API key goes in ``x-api-key``; without one, a token
    (given, or fetched from ``getToken`` with the clientId and clientSecret on first use, and
    fetched again once if the server says it expired) goes in ``Authorization: Bearer``."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None,
        client_id: str | None,
        client_secret: str | None,
        token: str | None,
    ) -> None:
        if not (api_key or token or (client_id and client_secret)):
            raise ValueError("a client needs an api_key, a token, or a client_id and client_secret")
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.client_id = client_id
        self.client_secret = client_secret
        self.token = token
        self._fetched_token = False

    def _needs_token(self, call: Call[object]) -> bool:
        return call.authenticated and not self.api_key and not self.token

    def _token_call(self) -> Call[str]:
        if not (self.client_id and self.client_secret):
            raise ValueError("getToken needs the client_id and client_secret")
        return get_token(self.client_id, self.client_secret)

    def _keep_token(self, token: str) -> str:
        self.token, self._fetched_token = token, True
        return token

    def _drop_expired_token(self, error: ApiError) -> bool:
        """Whether ``error`` says a token this client fetched has expired (it is then dropped,
        and the request can be sent again with a new one)."""
        if error.code != TOKEN_EXPIRED or not self._fetched_token or self.api_key:
            return False
        self.token, self._fetched_token = None, False
        return True

    def _headers(self, call: Call[object]) -> dict[str, str]:
        if not call.authenticated:
            return {}
        if self.api_key:
            return {"x-api-key": self.api_key}
        return {"authorization": f"Bearer {self.token}"}

    def _request(
        self,
        call: Call[object],
        content: bytes | Iterator[bytes] | AsyncIterator[bytes] | None = None,
        content_length: int = 0,
    ) -> httpx.Request:
        headers = {"user-agent": USER_AGENT, **self._headers(call)}
        if content is not None:
            # Declared, so that a file streamed from disk is not sent chunked.
            headers.update({"content-type": "application/octet-stream", "content-length": str(content_length)})
        return httpx.Request(
            call.method,
            self.base_url + call.path,
            params=list(call.query) or None,
            json=call.body,
            content=content,
            headers=headers,
        )

    def open_webhook(self, body: bytes | str | Mapping[str, JsonValue]) -> WebhookPayload:
        """Verify and decrypt a webhook body with this client's clientId and API key (or
        clientSecret, the same value): see :func:`reelsmith.client.webhooks.open_webhook`."""
        key = self.api_key or self.client_secret
        if not (self.client_id and key):
            raise ValueError("opening a webhook needs the client_id and the api_key (or client_secret)")
        return open_webhook(body, self.client_id, key)
